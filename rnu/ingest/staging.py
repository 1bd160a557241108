"""Chunked streaming of rows into session-local staging tables with COPY."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")

CHUNK_ROWS = 20_000


def chunked(items: Iterable[T], size: int = CHUNK_ROWS) -> Iterator[list[T]]:
    """Fixed-size lists from a stream, so memory is bounded by the chunk, not the file."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
