"""The one interface every sector loader implements: bytes in, canonical rows or rejects out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar, Protocol

from rnu.ingest.rows import CanonicalRow, DeathRow, PghRow, Reject

__all__ = ["CanonicalRow", "DeathRow", "Loader", "PghRow", "Reject"]


class Loader(Protocol):
    """A streaming reader of one sector's file format; it never touches the database."""

    sector: ClassVar[str]

    def rows(self, stream: BinaryIO) -> Iterator[CanonicalRow | Reject]: ...
