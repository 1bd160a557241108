"""File-level failures: the whole file is unusable, so no row of it is loaded.

RnuError (rnu.errors)
 └── InvalidInput
      └── FileRejected          the file as a whole cannot be read (code in loaders.reasons)
           └── EncodingMismatch the file is in another encoding than the sector declared

Row-level problems never raise: they come out as `Reject` rows, so counts add up.
"""

from __future__ import annotations

from rnu.errors import InvalidInput


class FileRejected(InvalidInput):
    """The file as a whole cannot be loaded; `code` is a key of `loaders.reasons.REASONS`."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class EncodingMismatch(FileRejected):
    """The bytes are in another encoding than the one declared for the sector.

    Raised before the first row is yielded, after sniffing the start of the file: loading
    a Latin-1 file as UTF-8 would reject every accented row, and loading a UTF-8 file as
    Latin-1 would silently turn every Ñ into mojibake.
    """

    def __init__(self, declared: str, detected: str) -> None:
        super().__init__(
            "encoding_mismatch",
            f"the file was declared {declared} but its bytes look like {detected}",
        )
        self.declared = declared
        self.detected = detected
