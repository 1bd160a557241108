"""`rnu agencies add|rotate|revoke|scopes|list`: agency API clients, operator side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency import service
from rnu.db import make_engine, make_sessionmaker, session_scope

T = TypeVar("T")
console = Console(stderr=True)
out = Console()


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

    @agencies.command("list")
    def list_cmd() -> None:
        """List clients (never their keys). Example: `rnu agencies list`."""
        clients = _run(database_url(), service.list_clients)
        table = Table(title="Agency clients")
        for column in ("id", "agency", "prefix", "scopes", "per min", "per day", "state"):
            table.add_column(column)
        for c in clients:
            state = "revoked" if c.revoked_at else ("rotated" if c.rotated_at else "active")
            table.add_row(
                str(c.id),
                c.agency,
                c.key_prefix,
                ", ".join(c.scopes),
                str(c.rate_per_minute),
                str(c.daily_quota),
                state,
            )
        out.print(table)
