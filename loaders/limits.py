"""Caps on what a small file may expand to: compression and shared-string bombs.

A 532 KB `.csv.gz` held 3 million rows and a 254 KB `.xlsx` 6 million shared strings (598 MB
of memory and 130 s of CPU before the first row): compressed containers let a sender make the
loader do work out of all proportion to what it sent (issue 11, item 9). Real rolls compress
5–10 times (text, XML); a file that expands more than `MAX_EXPANSION` times is refused as a
whole, and so is a workbook with more than `MAX_SHARED_STRINGS` distinct strings (an xlsx
sheet holds at most 1,048,576 rows, and openpyxl keeps every shared string in memory).
"""

from __future__ import annotations

import io
import os
import zipfile
from typing import IO, Any, BinaryIO

from loaders.errors import FileRejected

MAX_EXPANSION = 100  # decompressed bytes per compressed byte
MIN_ALLOWANCE = 16 << 20  # small files may always expand to this much
MAX_SHARED_STRINGS = 3_000_000
_SI = b"<si>"


def _bomb(detail: str) -> FileRejected:
    return FileRejected("unreadable_file", f"{detail}; it looks like a compression bomb")


def allowance(compressed: int) -> int:
    """How many decompressed bytes a container of `compressed` bytes may produce."""
    return max(compressed * MAX_EXPANSION, MIN_ALLOWANCE)


def stream_size(stream: IO[bytes]) -> int | None:
    """The size of a file or in-memory stream, None for a pipe."""
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, io.UnsupportedOperation, AttributeError):
        pass
    if not stream.seekable():
        return None
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end


class CappedReader(io.RawIOBase):
    """A stream that refuses (FileRejected) to yield more than `limit` bytes."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._left = limit
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        self._left -= len(data)
        if self._left < 0:
            raise _bomb(f"it decompresses to more than {self._limit // (1 << 20):,} MiB")
        view[: len(data)] = data
        return len(data)


def capped_gunzip(compressed: BinaryIO, raw: IO[bytes]) -> BinaryIO:
    """`compressed` (a GzipFile over `raw`) capped at the expansion its size allows."""
    size = stream_size(raw)
    limit = allowance(size) if size is not None else MAX_EXPANSION * MIN_ALLOWANCE
    return io.BufferedReader(CappedReader(compressed, limit), buffer_size=1 << 20)


def check_workbook(source: IO[bytes]) -> None:
    """Refuse an xlsx whose parts expand too much or that holds too many shared strings.

    Reads only the zip directory and, streaming, the shared strings part (Python's zipfile
    never yields more than a member's declared size, so the declared sizes bound the work).
    """
    start = source.tell()
    try:
        with zipfile.ZipFile(source) as book:
            members = book.infolist()
            packed = sum(m.compress_size for m in members)
            unpacked = sum(m.file_size for m in members)
            if unpacked > allowance(packed):
                raise _bomb(
                    f"its parts expand to {unpacked // (1 << 20):,} MiB from "
                    f"{max(packed, 1) // 1024:,} KiB"
                )
            names = {m.filename for m in members}
            if "xl/sharedStrings.xml" in names:
                _count_shared_strings(book)
    except zipfile.BadZipFile:
        return  # openpyxl reports an unreadable workbook in its own words
    finally:
        source.seek(start)


def _count_shared_strings(book: zipfile.ZipFile) -> None:
    count = 0
    tail = b""
    with book.open("xl/sharedStrings.xml") as part:
        while chunk := part.read(1 << 20):
            data = tail + chunk
            count += data.count(_SI)
            tail = data[-(len(_SI) - 1) :]
            if count > MAX_SHARED_STRINGS:
                raise _bomb(f"it holds more than {MAX_SHARED_STRINGS:,} distinct strings")
