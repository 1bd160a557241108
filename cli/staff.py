"""`rnu users add` and `rnu volunteers add`: create staff and volunteer accounts.

Passwords are read with a hidden prompt (typed twice) or, for scripts, from standard input
with ``--password-stdin``; never from an argument, which would land in shell history and in
the process list.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from cli.consoles import err
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.errors import InvalidInput
from rnu.staff import service as staff_service
from rnu.staff.models import STAFF_ROLES, StaffUser
from rnu.staff.service import MIN_PASSWORD_LENGTH

console = err


def read_password(password_stdin: bool) -> str:
    """The new password from stdin (first line) or a hidden, confirmed prompt.

    Without a terminal there is nobody to prompt: say how to pipe it instead of failing on
    an empty read. Passwords need at least 12 characters (`rnu.staff.service`).
    """
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput(
            "no terminal to ask for the password: pipe it in with --password-stdin, e.g. "
            "`printf '%s\\n' 'at-least-12-characters' | rnu users add ana --password-stdin`"
        )
    console.print(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


async def _create(database_url: str, **fields: object) -> StaffUser:
    engine = make_engine(database_url, pool_size=1, role="cli")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await staff_service.create_user(session, **fields)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


async def _set(
    database_url: str, username: str, *, password: str | None, active: bool | None
) -> None:
    engine = make_engine(database_url, pool_size=1, role="cli")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            if password is not None:
                await staff_service.set_password(session, username=username, password=password)
            if active is not None:
                await staff_service.set_active(session, username=username, is_active=active)
    finally:
        await engine.dispose()


def register(app: typer.Typer, database_url: Callable[[], str]) -> None:
    """Add `users` and `volunteers` to the main CLI (`database_url` resolves the server)."""
    users_app = typer.Typer(
        help="Staff accounts. Example: `rnu users add ana --role analyst`.", no_args_is_help=True
    )
    volunteers_app = typer.Typer(
        help="Vigilance volunteers. Example: "
        "`rnu volunteers add rosa --organisation 'Comité X' --districts 150101,150102`.",
        no_args_is_help=True,
    )
    app.add_typer(users_app, name="users")
    app.add_typer(volunteers_app, name="volunteers")

    @users_app.command("add")
    def users_add(
        username: Annotated[str, typer.Argument(help="Login name (lowercase).")],
        role: Annotated[str, typer.Option(help="analyst | supervisor | admin")] = "analyst",
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from stdin.")
        ] = False,
    ) -> None:
        """Create a staff account (password: 12 characters or more, asked twice).

        Examples: `rnu users add ana --role supervisor`;
        in a script: `printf '%s\\n' "$PASSWORD" | rnu users add ana --password-stdin`.
        """
        if role not in STAFF_ROLES:
            raise typer.BadParameter(f"role must be one of {', '.join(STAFF_ROLES)}")
        password = read_password(password_stdin)
        user = asyncio.run(_create(database_url(), username=username, role=role, password=password))
        console.print(f"Created {user.role} {user.username}.")

    @users_app.command("password")
    def users_password(
        username: Annotated[str, typer.Argument(help="Login name.")],
        password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    ) -> None:
        """Set a new password (unlocks the account, ends its sessions).

        Example: `rnu users password ana`
        """
        asyncio.run(
            _set(database_url(), username, password=read_password(password_stdin), active=None)
        )
        console.print(f"Password changed for {username}; its sessions were ended.")

    @users_app.command("disable")
    def users_disable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
        """Disable an account (staff or volunteer) and end its sessions.

        Example: `rnu users disable ana`
        """
        asyncio.run(_set(database_url(), username, password=None, active=False))
        console.print(f"{username} disabled; its sessions were ended.")

    @volunteers_app.command("add")
    def volunteers_add(
        username: Annotated[str, typer.Argument(help="Login name (lowercase).")],
        organisation: Annotated[
            str, typer.Option(help="The organisation that signed the vigilance agreement.")
        ],
        districts: Annotated[
            str, typer.Option(help="Comma-separated INEI district ubigeos, e.g. 150101,150102.")
        ],
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from stdin.")
        ] = False,
    ) -> None:
        """Create a volunteer bound to an organisation and districts.

        Example: `rnu volunteers add rosa --organisation "Vaso de Leche Comas" --districts 150110`
        """
        password = read_password(password_stdin)
        user = asyncio.run(
            _create(
                database_url(),
                username=username,
                role="volunteer",
                password=password,
                organisation=organisation,
                districts=[d for d in districts.split(",") if d.strip()],
            )
        )
        console.print(
            f"Created volunteer {user.username} ({user.organisation}) for "
            f"{', '.join(user.districts)}."
        )
