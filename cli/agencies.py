"""`rnu agencies add|rotate|revoke|scopes|name|list`: agency API clients, operator side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from cli.consoles import err, out
from rnu.agency import service
from rnu.db import make_engine, make_sessionmaker, session_scope

T = TypeVar("T")
console = err


def _run(database_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = make_engine(database_url, pool_size=1, role="cli")
        try:
            async with session_scope(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _scopes(raw: str) -> list[str]:
    return [s for s in raw.split(",") if s.strip()]


def register(app: typer.Typer, database_url: Any) -> None:
    """Add `rnu agencies …` to the main CLI."""
    agencies = typer.Typer(
        help="Agency API clients. Example: `rnu agencies add MIDIS --scopes person:read`.",
        no_args_is_help=True,
    )
    app.add_typer(agencies, name="agencies")

    @agencies.command("add")
    def add(
        name: Annotated[str, typer.Argument(help="The agency's name, e.g. MIDIS-P65.")],
        scopes: Annotated[str, typer.Option(help="Comma-separated scopes.")] = "",
        rate_per_minute: Annotated[int, typer.Option(help="Requests per minute.")] = 600,
        daily_quota: Annotated[int, typer.Option(help="Person records read per day.")] = 200_000,
        records_per_minute: Annotated[
            int, typer.Option(help="Person records read per minute.")
        ] = 10_000,
        public_name: Annotated[
            str | None,
            typer.Option(help="The institution's name as citizens read it in their access log."),
        ] = None,
    ) -> None:
        """Create a client and print its key ONCE (only a hash is kept).

        Example: `rnu agencies add PENSION65 --scopes person:read,enrollment:write:PENSION65`
        """
        issued = _run(
            database_url(),
            lambda s: service.add_client(
                s,
                agency=name,
                scopes=_scopes(scopes),
                rate_per_minute=rate_per_minute,
                daily_quota=daily_quota,
                records_per_minute=records_per_minute,
                public_name=public_name,
            ),
        )
        console.print(f"Client {issued.client.id} for {name}: {', '.join(issued.client.scopes)}")
        console.print("The key is shown once; store it now:")
        out.print(issued.key, soft_wrap=True)

    @agencies.command("rotate")
    def rotate(ref: Annotated[str, typer.Argument(help="Client id, key prefix or name.")]) -> None:
        """Issue a new key; the old one stops working at once. Example: `rnu agencies rotate 3`."""
        issued = _run(database_url(), lambda s: service.rotate(s, ref=ref))
        console.print(f"New key for {issued.client.agency} (shown once):")
        out.print(issued.key, soft_wrap=True)

    @agencies.command("revoke")
    def revoke(ref: Annotated[str, typer.Argument(help="Client id, key prefix or name.")]) -> None:
        """Disable a client for good. Example: `rnu agencies revoke MIDIS`."""
        client = _run(database_url(), lambda s: service.revoke(s, ref=ref))
        console.print(f"Client {client.id} ({client.agency}) revoked.")

    @agencies.command("scopes")
    def scopes_cmd(
        ref: Annotated[str, typer.Argument(help="Client id, key prefix or name.")],
        scopes: Annotated[str, typer.Argument(help="The full new comma-separated list.")],
    ) -> None:
        """Replace a client's scopes. Example: `rnu agencies scopes 3 person:read,flags:read`."""
        client = _run(
            database_url(), lambda s: service.set_scopes(s, ref=ref, scopes=_scopes(scopes))
        )
        console.print(f"{client.agency}: {', '.join(client.scopes)}")

    @agencies.command("name")
    def name_cmd(
        ref: Annotated[str, typer.Argument(help="Client id, key prefix or name.")],
        public_name: Annotated[str, typer.Argument(help="The institution's public name.")],
    ) -> None:
        """Set the name citizens read in "¿Quién revisó sus datos?".

        Example: `rnu agencies name FISE-OSINERGMIN "Fondo de Inclusión Social Energético"`
        """
        client = _run(
            database_url(),
            lambda s: service.set_public_name(s, ref=ref, public_name=public_name),
        )
        console.print(f"{client.agency}: {client.public_name}")

    @agencies.command("list")
    def list_cmd() -> None:
        """List clients (never their keys). Example: `rnu agencies list`."""
        clients = _run(database_url(), service.list_clients)
        table = Table(title="Agency clients")
        for column in (
            "id", "agency", "public name", "prefix", "scopes",
            "req/min", "records/day", "records/min", "state",
        ):  # fmt: skip
            table.add_column(column)
        for c in clients:
            state = "revoked" if c.revoked_at else ("rotated" if c.rotated_at else "active")
            table.add_row(
                str(c.id),
                c.agency,
                c.public_name or "",
                c.key_prefix,
                ", ".join(c.scopes),
                str(c.rate_per_minute),
                str(c.daily_quota),
                str(c.records_per_minute),
                state,
            )
        out.print(table)

    @agencies.command("query-add")
    def query_add(
        ref: Annotated[str, typer.Argument(help="Client id, key prefix or name.")],
        path: Annotated[Path, typer.Argument(help="A file holding one GraphQL query.")],
        name: Annotated[str | None, typer.Option(help="A label; default: the file name.")] = None,
    ) -> None:
        """Register a GraphQL query for a client (the production allow-list, docs/graphql.md).

        The query is checked as a request would be (schema, depth, aliases, cost). The hash
        printed is what the client may send as extensions.persistedQuery.sha256Hash.
        Example: `rnu agencies query-add PENSION65 cobertura.graphql`
        """
        from api.graphql import persisted

        text = path.read_text(encoding="utf-8")

        async def work(session: AsyncSession) -> str:
            client = await service.get_client(session, ref=ref)
            row = await persisted.register(
                session, client=client, query=text, name=name or path.stem
            )
            return row.sha256

        digest = _run(database_url(), work)
        console.print(f"Registered for {ref}; sha256:")
        out.print(digest)

    @agencies.command("query-list")
    def query_list(
        ref: Annotated[str, typer.Argument(help="Client id, key prefix or name.")],
    ) -> None:
        """List a client's registered queries. Example: `rnu agencies query-list PENSION65`."""
        from rnu.agency import persisted as store

        async def work(session: AsyncSession) -> list[tuple[str, str, str]]:
            client = await service.get_client(session, ref=ref)
            assert client.id is not None
            rows = await store.list_for(session, client_id=client.id)
            return [(r.sha256, r.name or "", "revoked" if r.revoked_at else "active") for r in rows]

        table = Table(title=f"Registered GraphQL queries of {ref}")
        for column in ("sha256", "name", "state"):
            table.add_column(column)
        for row in _run(database_url(), work):
            table.add_row(*row)
        out.print(table)

    @agencies.command("query-revoke")
    def query_revoke(
        ref: Annotated[str, typer.Argument(help="Client id, key prefix or name.")],
        sha256: Annotated[str, typer.Argument(help="The query's hash.")],
    ) -> None:
        """Stop a registered query from running. Example: `rnu agencies query-revoke 3 <hash>`."""
        from rnu.agency import persisted as store

        async def work(session: AsyncSession) -> None:
            client = await service.get_client(session, ref=ref)
            assert client.id is not None
            await store.revoke(session, client_id=client.id, sha256=sha256)

        _run(database_url(), work)
        console.print("Revoked.")
