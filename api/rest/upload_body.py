"""Read a multipart upload only after its sender is known, streaming it to disk with a cap.

FastAPI parses `File`/`Form` parameters before it runs the route's dependencies, so an
anonymous 200 MiB body was spooled to a temporary file and only then refused with 401
(issue 11, item 8). Cargas therefore declares no body parameters: the key is checked first
(a dependency), the declared `Content-Length` is judged before a byte is read, and the body
is parsed here, chunk by chunk, with python-multipart's push parser (the parser Starlette
itself uses), writing the file part straight to its final place and refusing the upload as
soon as it passes the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from rnu.errors import InvalidInput

# Headers, boundaries and the two small fields around the file.
ENVELOPE_BYTES = 64 * 1024
MAX_FIELD_BYTES = 1024


class TooLarge(InvalidInput):
    """The body is larger than the limit (413)."""


@dataclass
class ReceivedUpload:
    """The small form fields and the one stored file of a multipart body."""

    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    path: Path | None = None
    size: int = 0


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"the file is larger than the limit of {limit // (1024 * 1024)} MiB; "
        "split it by period or compress it (.csv.gz)"
    )


def check_declared_length(content_length: str | None, limit: int) -> None:
    """Refuse from the header alone when the sender says the body is too large."""
    if content_length is None:
        return
    try:
        declared = int(content_length)
    except ValueError:
        raise InvalidInput("Content-Length is not a number") from None
    if declared > limit + ENVELOPE_BYTES:
        raise too_large(limit)


async def receive(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    *,
    file_field: str,
    target: Path,
    limit: int,
) -> ReceivedUpload:
    """Parse a multipart body: the file part goes to `target`, fields are kept (small)."""
    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidInput("send the roll as multipart/form-data (fields archivo, programa)")
    received = ReceivedUpload()
    state = _PartState()
    errors: list[InvalidInput] = []

    def on_part_begin() -> None:
        state.reset()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        if state.header_name.lower() == b"content-disposition":
            _, disposition = parse_options_header(state.header_value)
            state.name = disposition.get(b"name", b"").decode("utf-8", "replace")
            filename = disposition.get(b"filename")
            state.filename = filename.decode("utf-8", "replace") if filename else None
        state.header_name, state.header_value = b"", b""

    def on_headers_finished() -> None:
        if state.name == file_field and received.path is None:
            received.file_name = state.filename or "archivo"
            received.path = target
            state.sink = target.open("wb")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if state.sink is not None:
            received.size += len(piece)
            if received.size > limit:
                if not errors:
                    errors.append(too_large(limit))
                return
            state.sink.write(piece)
        elif len(state.value) + len(piece) <= MAX_FIELD_BYTES:
            state.value += piece
        elif not errors:
            errors.append(InvalidInput(f"the field {state.name!r} is too long"))

    def on_part_end() -> None:
        if state.sink is not None:
            state.sink.close()
            state.sink = None
        elif state.name:
            received.fields[state.name] = state.value.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    total = 0
    try:
        async for chunk in chunks:
            total += len(chunk)
            if total > limit + ENVELOPE_BYTES and not errors:
                errors.append(too_large(limit))
            if errors:
                break  # stop reading: the rest of the body is never stored
            parser.write(chunk)
        if not errors:
            parser.finalize()
    except ValueError as exc:  # python-multipart's parse errors
        errors.append(InvalidInput(f"the multipart body is malformed ({exc})"))
    finally:
        if state.sink is not None:
            state.sink.close()
    if errors:
        _discard(target)
        raise errors[0]
    return received


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


class _PartState:
    def __init__(self) -> None:
        self.sink: IO[bytes] | None = None
        self.reset()

    def reset(self) -> None:
        self.header_name = b""
        self.header_value = b""
        self.name = ""
        self.filename: str | None = None
        self.value = b""
