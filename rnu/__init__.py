"""RNU: the Registro Nacional de Usuarios of Peru's social programs (domain and persistence)."""

__version__ = "0.1.0"
