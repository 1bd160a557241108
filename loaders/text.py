"""Streaming text input: verify the declared encoding, decode line by line, split fields.

Decisions every loader of a text file shares (documented once, here):

* **Encoding is verified, not trusted.** The first `SAMPLE_BYTES` of the file are sniffed
  before any row is yielded. A file declared UTF-8 whose non-ASCII lines are mostly invalid
  UTF-8, or a file declared Latin-1/cp1252 whose non-ASCII lines are all valid multi-byte
  UTF-8, raises `EncodingMismatch`: the whole file was exported wrongly and should be resent.
  After that, a single line that cannot be decoded is a `Reject("encoding_error")` and the
  rest of the file goes on. A UTF-16 file, or a binary file (NUL bytes, a zip/PDF/gzip
  signature) sent by mistake, is rejected as a whole.
* **Latin-1 means Windows-1252.** Files declared Latin-1 come from Windows exports, so they
  are decoded as cp1252 (curly quotes, `‘` in mojibake), falling back to Latin-1 for the five
  bytes cp1252 leaves undefined; decoding them can never fail.
* **A UTF-8 byte-order mark is dropped**, declared or not.
* **Blank lines are not data rows**: they get no row number and yield nothing. A repeated
  header line (two exports concatenated) is not a data row either. Every other line is one
  data row, numbered from 1 in file order, and comes out loaded or rejected.
* **A row is one physical line**: a quoted field may contain the delimiter but not a line
  break. A line longer than `MAX_LINE_BYTES` is read in chunks (memory stays flat) and
  rejected as `field_too_long`.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, BinaryIO, cast

from loaders.base import Reject
from loaders.errors import EncodingMismatch, FileRejected
from loaders.limits import capped_gunzip

SAMPLE_BYTES = 64 * 1024
MAX_LINE_BYTES = 1 << 20
MAX_FIELD_CHARS = 500  # no name, code or date is anywhere near this long
RAW_PREVIEW_CHARS = 1000  # how much of an oversized line a Reject keeps

_BINARY_SIGNATURES = (
    b"PK\x03\x04",  # zip, xlsx, docx
    b"%PDF",
    b"\x1f\x8b",  # gzip where plain text was expected
    b"\xd0\xcf\x11\xe0",  # legacy .xls / OLE2
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SINGLE_BYTE = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252", "windows-1252"}


def canonical_encoding(encoding: str) -> str:
    """Return "utf-8" or "cp1252", the two decoders the sector files need."""
    name = codecs.lookup(encoding).name
    if name == "utf-8" or name == "utf-8-sig":
        return "utf-8"
    if name in {"latin-1", "iso8859-1", "cp1252"} or encoding.lower() in _SINGLE_BYTE:
        return "cp1252"
    raise ValueError(f"unsupported declared encoding: {encoding}")


def _decode_single_byte(raw: bytes) -> str:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _sniff(sample: list[bytes], declared: str) -> None:
    """Raise when the sampled lines show the file is not in the declared encoding."""
    head = sample[0] if sample else b""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise EncodingMismatch(declared, "utf-16")
    if head.startswith(_BINARY_SIGNATURES):
        raise FileRejected("not_text", "the file starts with a binary (zip/PDF/gzip/xls) signature")
    with_nul = sum(1 for line in sample if b"\x00" in line)
    if sample and with_nul * 2 > len(sample):
        raise FileRejected("not_text", "most sampled lines contain NUL bytes")
    utf8_ok = utf8_bad = 0
    for line in sample:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            utf8_bad += 1
        else:
            utf8_ok += 1
    has_bom = head.startswith(codecs.BOM_UTF8)
    if has_bom and head[3:].isascii():
        utf8_ok -= 1  # the BOM itself is no evidence about the text
    if declared == "utf-8":
        # One stray Latin-1 line is a row problem; most accented lines invalid is a file problem.
        if utf8_bad >= 2 and utf8_bad > utf8_ok:
            raise EncodingMismatch("utf-8", "latin-1/cp1252")
    elif utf8_bad == 0 and utf8_ok >= (1 if has_bom else 2):
        # Real Latin-1 text is almost never valid multi-byte UTF-8 line after line.
        raise EncodingMismatch("latin-1/cp1252", "utf-8")


class LineReader:
    """Iterate `(text, problem)` over a binary stream's non-blank lines, decoded one by one.

    `problem` is None for a good line, else a row reason code ("encoding_error",
    "binary_garbage", "field_too_long") and `text` a best-effort preview for the Reject.
    `unterminated` is true while the current line had no line break (the file's last line),
    which tells a short row from a file cut in the middle of a line.
    """

    def __init__(self, stream: BinaryIO, encoding: str) -> None:
        self.declared = canonical_encoding(encoding)
        self.stream = stream
        self.unterminated = False

    def _raw_lines(self) -> Iterator[bytes]:
        readline = partial(self.stream.readline, MAX_LINE_BYTES)
        sample: list[bytes] = []
        size = 0
        while size < SAMPLE_BYTES:
            try:
                line = readline()
            except (EOFError, OSError, zlib.error) as exc:
                raise FileRejected("unreadable_file", f"cannot read the file ({exc})") from exc
            if not line:
                break
            sample.append(line)
            size += len(line)
        _sniff(sample, self.declared)
        yield from sample
        try:
            yield from iter(readline, b"")
        except (EOFError, OSError, zlib.error) as exc:
            # A gzip cut short is only noticed here, at its end: the file must be resent.
            raise FileRejected("unreadable_file", f"the file ends abruptly ({exc})") from exc

    def __iter__(self) -> Iterator[tuple[str, str | None]]:
        is_utf8 = self.declared == "utf-8"
        first = True
        raw_lines = self._raw_lines()
        for raw in raw_lines:
            if raw[-1:] == b"\n":
                self.unterminated = False
                body = raw[:-2] if raw[-2:] == b"\r\n" else raw[:-1]
            elif len(raw) >= MAX_LINE_BYTES:
                # An oversized line: drain it chunk by chunk so memory stays flat.
                for rest in raw_lines:
                    if rest[-1:] == b"\n":
                        break
                self.unterminated = False
                preview = raw[:RAW_PREVIEW_CHARS].decode("utf-8", "replace")
                yield preview, "field_too_long"
                continue
            else:
                self.unterminated = True
                body = raw.rstrip(b"\r")
            if first:
                first = False
                if body.startswith(codecs.BOM_UTF8):
                    body = body[3:]
            if is_utf8:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    preview = body[:RAW_PREVIEW_CHARS].decode("utf-8", "replace")
                    code = "binary_garbage" if is_garbage(preview) else "encoding_error"
                    yield preview.replace("\x00", ""), code
                    continue
            else:
                text = _decode_single_byte(body)
            if not text or text.isspace():
                continue
            if "\x00" in text:
                yield text.replace("\x00", ""), "binary_garbage"
                continue
            yield text, None


def is_garbage(text: str) -> bool:
    """True for text with control characters (other than tab): binary data, not a row."""
    return _CONTROL.search(text) is not None


def shape_problem(reader: LineReader, text: str, short: bool) -> str:
    """Why a line has the wrong shape: garbage, a file cut mid-line, or a wrong field count.

    Control characters are only looked for here, on lines already known to be broken,
    to keep the check off the path of the millions of good lines.
    """
    if is_garbage(text):
        return "binary_garbage"
    if short and reader.unterminated:
        return "truncated_line"
    return "wrong_field_count"


def make_splitter(delimiter: str, quotechar: str | None = '"') -> Callable[[str], list[str]]:
    """Return a line splitter: plain `str.split` unless the line has quotes (then `csv`).

    Raises `csv.Error` for a line the csv module refuses (e.g. a field over its size limit).
    """
    if quotechar is None:

        def split_plain(text: str) -> list[str]:
            return text.split(delimiter)

        return split_plain

    def split(text: str) -> list[str]:
        if quotechar in text:
            return next(csv.reader((text,), delimiter=delimiter, quotechar=quotechar))
        return text.split(delimiter)

    return split


def _norm_header(name: str) -> str:
    return " ".join(name.strip().strip("\ufeff").upper().split())


def _too_long(text: str, fields: Sequence[str]) -> bool:
    return any(len(f) > MAX_FIELD_CHARS for f in fields)


def read_delimited(
    stream: BinaryIO,
    *,
    encoding: str,
    delimiter: str,
    columns: Sequence[str],
    required: Sequence[str] | None = None,
    quotechar: str | None = '"',
    has_header: bool = True,
    skip_rows: int = 0,
) -> Iterator[Reject | tuple[str, dict[str, str]]]:
    """Yield `(row_number, raw)` for each well-shaped data row, or a `Reject`.

    With a header, columns are found by name (case and spaces ignored, any order), extra
    columns are kept in `raw` under their own names, and a header lacking `required`
    columns (default: all `columns`) rejects the file. Without one, `columns` is the layout.
    """
    reader = LineReader(stream, encoding)
    split = make_splitter(delimiter, quotechar)
    lines = iter(reader)
    for _ in range(skip_rows):
        if next(lines, None) is None:
            return
    names: list[str] = list(columns)
    header_key: list[str] | None = None
    if has_header:
        first = next(lines, None)
        if first is None:
            return
        text, problem = first
        if problem is not None:
            raise FileRejected("header_missing", f"the header line is unreadable ({problem})")
        found = [_norm_header(f) for f in split(text)]
        names = _match_header(found, columns, required, delimiter)
        header_key = found
    width = len(names)
    first_key = header_key[0] if header_key else None
    number = 0
    # The hot loop of every delimited file: keep it to plain string operations.
    for text, problem in lines:
        number += 1
        if problem is not None:
            yield Reject(str(number), (problem,), text)
            continue
        if quotechar is not None and quotechar in text:
            try:
                fields = split(text)
            except csv.Error:
                yield Reject(str(number), ("field_too_long",), text[:RAW_PREVIEW_CHARS])
                continue
        else:
            fields = text.split(delimiter)
        if len(fields) != width:
            code = shape_problem(reader, text, len(fields) < width)
            yield Reject(str(number), (code,), text[:RAW_PREVIEW_CHARS])
            continue
        if first_key is not None and fields[0].strip().upper() == first_key:
            if [_norm_header(f) for f in fields] == header_key:
                number -= 1  # a repeated header line is not a data row
                continue
        if len(text) > MAX_FIELD_CHARS and _too_long(text, fields):
            preview = {k: v[:RAW_PREVIEW_CHARS] for k, v in zip(names, fields, strict=True)}
            yield Reject(str(number), ("field_too_long",), preview)
            continue
        yield str(number), dict(zip(names, fields, strict=True))


def _match_header(
    found: list[str], columns: Sequence[str], required: Sequence[str] | None, delimiter: str
) -> list[str]:
    """Map the file's header onto the contract's column names, or reject the file."""
    wanted = {_norm_header(c): c for c in columns}
    names = [wanted.get(f, f) for f in found]
    need = [_norm_header(c) for c in (columns if required is None else required)]
    missing = [wanted[n] if n in wanted else n for n in need if n not in found]
    if not missing:
        return names
    if len(missing) == len(need) or len(found) == 1:
        hint = f"expected columns {list(columns)} separated by {delimiter!r}"
        raise FileRejected("header_missing", f"no recognisable header line: {hint}")
    raise FileRejected("missing_columns", f"the header lacks {missing}")


class _Prefixed(io.RawIOBase):
    """A raw stream that replays already-read bytes before the rest of another stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def peek(stream: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    """The first `size` bytes of a stream, and a stream that still starts at them."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(size)
        stream.seek(start)
        return head, stream
    head = stream.read(size)
    return head, cast(BinaryIO, io.BufferedReader(_Prefixed(head, stream)))


def maybe_gunzip(stream: BinaryIO) -> BinaryIO:
    """The decompressed stream of a gzip file, or the stream itself when it is not gzipped."""
    head, peeked = peek(stream, 2)
    if head == b"\x1f\x8b":
        # capped: a few hundred KB may not expand to gigabytes (loaders.limits)
        return capped_gunzip(cast(BinaryIO, gzip.GzipFile(fileobj=peeked, mode="rb")), stream)
    return peeked
