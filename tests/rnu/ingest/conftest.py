"""A database of its own for ingestion tests: loads commit, so they must not share one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rnu.program.service import sync_programs_sync
from rnu.ubigeo.service import load_reference_sync
from tests.conftest import drop_test_database, make_test_database


@pytest.fixture
def ingest_db(server_url: str) -> Iterator[str]:
    from rnu.migrate import upgrade

    url = make_test_database(server_url, prefix="rnu_ingest")
    upgrade(url)
    load_reference_sync(url)
    sync_programs_sync(url)
    yield url
    drop_test_database(server_url, url)
