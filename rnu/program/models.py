"""Social programs and their eligibility rules, kept as data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from rnu.base import jsonb_field


class Program(SQLModel, table=True):
    """A program (JUNTOS, PENSION65, …); `rules` holds its versioned rules from rules.toml."""

    __table_args__ = (CheckConstraint("unit IN ('person', 'household')", name="unit_known"),)

    code: str = Field(primary_key=True, max_length=20)
    name: str
    sector: str
    unit: str = Field(max_length=10)
    rules: dict[str, Any] = jsonb_field()
