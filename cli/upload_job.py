"""`python -m cli.upload_job ID`: load one agency upload in a process of its own.

`rnu worker` runs each upload here, under memory and CPU limits (`cli.worker`), so an
upload that blows up takes down this process only; the worker then marks it failed. The
database URL comes in the environment (`RNU_DATABASE_URL`), never on the command line.
"""

from __future__ import annotations

import asyncio
import sys

from cli.consoles import err
from cli.worker import describe
from rnu.config import get_settings
from usecases.loads import run_upload


def main(argv: list[str]) -> int:
    upload_id = int(argv[0])
    url = get_settings().database_url
    if not url:
        err.print("RNU_DATABASE_URL is not set for the upload job")
        return 2
    outcome = asyncio.run(run_upload(url, upload_id, confirm_drop="--confirm-drop" in argv[1:]))
    err.print(describe(outcome), markup=False, highlight=False, soft_wrap=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
