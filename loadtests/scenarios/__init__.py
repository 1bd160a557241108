"""One module per kind of visitor; ``loadtests/locustfile.py`` picks the profile."""
