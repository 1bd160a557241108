"""The two consoles every command prints to: tables on stdout, messages and bars on stderr.

When a stream is not a terminal (a pipe, a CI log, `rnu demo > demo.log`), rich would wrap
tables to 80 columns and cut file names in the middle; such output gets a width wide enough
for the widest table instead (COLUMNS still wins when set).

Markup is off: what the commands print carries file names, mapping keys, column names and
error texts that came from users, and rich would read "[names]" in them as a style tag
(dropping it) or fail on "[/]" with a traceback. Styled text is built as `rich.text.Text`.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from rich.console import Console

WIDE = 200


def _console(stream: TextIO, *, stderr: bool) -> Console:
    width = None if stream.isatty() or os.environ.get("COLUMNS") else WIDE
    return Console(stderr=stderr, width=width, markup=False)


out = _console(sys.stdout, stderr=False)
err = _console(sys.stderr, stderr=True)
