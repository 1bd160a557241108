"""Memory stays flat as files grow: a large gzip SIS file is streamed, never held."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from loaders.sis import COLUMNS, SisLoader
from tests.loaders.conftest import TODAY


def gzip_stream(rows: int) -> Iterator[bytes]:
    """Compressed chunks of a SIS file, generated on the fly (the file never exists whole)."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: gzip container
    yield compressor.compress((",".join(COLUMNS) + "\n").encode())
    for start in range(0, rows, 10_000):
        block = "".join(
            f"1,{(i * 7919) % 10**8:08d},QUISPE,MAMANI,JUAN {i % 977},"
            f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10},{'MF'[i % 2]},{150101 + i % 43:06d},"
            "SUBSIDIADO,2020-05-06\n"
            for i in range(start, min(rows, start + 10_000))
        )
        yield compressor.compress(block.encode())
    yield compressor.flush()


class GeneratedFile(io.RawIOBase):
    """A read-only stream over generated chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):
        while not self.pending:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.pending = chunk
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


@pytest.mark.slow
def test_memory_is_flat_on_a_300k_row_file():
    rows = 300_000
    stream = io.BufferedReader(GeneratedFile(gzip_stream(rows)))
    tracemalloc.start()
    try:
        count = sum(1 for _ in SisLoader(today=TODAY).rows(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    assert peak < 20 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_generated_file_is_a_valid_gzip():
    data = b"".join(gzip_stream(25))
    assert gzip.decompress(data).count(b"\n") == 26
