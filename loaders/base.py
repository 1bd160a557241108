"""The one interface every sector loader implements: bytes in, canonical rows or rejects out.

The shapes and the `Loader` protocol live in `rnu.ingest.rows` (the pipeline below consumes
them and may not import this package); they are re-exported here for the loaders.
"""

from __future__ import annotations

from rnu.ingest.rows import CanonicalRow, DeathRow, Loader, PghRow, Reject, RollLoader

__all__ = ["CanonicalRow", "DeathRow", "Loader", "PghRow", "Reject", "RollLoader"]
