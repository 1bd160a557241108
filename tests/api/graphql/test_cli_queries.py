"""`rnu agencies query-add|query-list|query-revoke` end to end, on a database of their own
(synchronous: typer runs asyncio itself)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.agencies import register
from rnu.migrate import upgrade
from tests.conftest import drop_test_database, make_test_database

QUERY = "query Programas { programs { totalCount } }\n"


@pytest.fixture(scope="module")
def cli(server_url: str) -> Iterator[typer.Typer]:
    url = make_test_database(server_url, prefix="rnu_cli_queries")
    upgrade(url)
    app = typer.Typer()
    register(app, lambda: url)
    yield app
    drop_test_database(server_url, url)


def test_register_list_and_revoke(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(cli, ["agencies", "add", "CLI-QUERIES", "--scopes", "person:read"])
    assert added.exit_code == 0, added.output
    good = tmp_path / "programas.graphql"
    good.write_text(QUERY, encoding="utf-8")
    digest = hashlib.sha256(QUERY.encode()).hexdigest()
    result = runner.invoke(cli, ["agencies", "query-add", "CLI-QUERIES", str(good)])
    assert result.exit_code == 0, result.output
    assert digest in result.output
    listed = runner.invoke(cli, ["agencies", "query-list", "CLI-QUERIES"])
    assert digest[:16] in listed.output
    assert "active" in listed.output
    bad = tmp_path / "mala.graphql"
    bad.write_text("{ nosuchfield }", encoding="utf-8")
    refused = runner.invoke(cli, ["agencies", "query-add", "CLI-QUERIES", str(bad)])
    assert refused.exit_code != 0
    revoked = runner.invoke(cli, ["agencies", "query-revoke", "CLI-QUERIES", digest])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(cli, ["agencies", "query-list", "CLI-QUERIES"]).output
