"""The ubigeo reference table: INEI codes with RENIEC's different codes beside them."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Ubigeo(SQLModel, table=True):
    """One district. `reniec` is RENIEC's code for the same place: never compare it to `inei`."""

    inei: str = Field(primary_key=True, max_length=6)
    reniec: str | None = Field(default=None, max_length=6, index=True)
    departamento: str
    provincia: str
    distrito: str
    name_key: str = Field(index=True)  # folded "DEPARTAMENTO|PROVINCIA|DISTRITO"
