"""`rnu users add`, `rnu users totp-enrol` and `rnu volunteers add`: staff and volunteer accounts.

Passwords are read with a hidden prompt (typed twice) or, for scripts, from standard input
with ``--password-stdin``; never from an argument, which would land in shell history and in
the process list. Common or trivial passwords are refused (``rnu.staff.passwords``).

Supervisors and admins log in with a TOTP code: ``users add`` enrols them at once and
``users totp-enrol`` gives any staff account a new secret. The otpauth URI and the secret are
printed to the terminal once, for the account's owner to add to an authenticator app; they
are never logged, and the database keeps the secret only sealed under RNU_SECRET_KEY.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from cli.consoles import err, out
from rnu.config import get_settings
from rnu.db import make_engine, make_sessionmaker, session_scope
from rnu.errors import InvalidInput
from rnu.staff import service as staff_service
from rnu.staff import totp
from rnu.staff.models import STAFF_ROLES, TOTP_ROLES, StaffUser
from rnu.staff.passwords import check_password
from rnu.staff.service import MIN_PASSWORD_LENGTH

console = err


def read_password(password_stdin: bool) -> str:
    """The new password from stdin (first line) or a hidden, confirmed prompt.

    Without a terminal there is nobody to prompt: say how to pipe it instead of failing on
    an empty read. Passwords need at least 12 characters and must not be common or trivial
    (`rnu.staff.passwords`).
    """
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput(
            "no terminal to ask for the password: pipe it in with --password-stdin, e.g. "
            "`printf '%s\\n' 'at-least-12-characters' | rnu users add ana --password-stdin`"
        )
    console.print(
        f"The password needs at least {MIN_PASSWORD_LENGTH} characters, and may not be a common "
        "password, only digits, a sequence, or contain the username."
    )
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


async def _create(database_url: str, **fields: object) -> StaffUser:
    engine = make_engine(database_url, pool_size=1, role="cli")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await staff_service.create_user(session, **fields)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def server_secret() -> bytes:
    """The key TOTP secrets are sealed under (RNU_SECRET_KEY, as the server reads it)."""
    return get_settings().secret_key.get_secret_value().encode("utf-8")


async def _enrol(database_url: str, username: str) -> totp.Enrolment:
    engine = make_engine(database_url, pool_size=1, role="cli")
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await totp.enrol(session, username=username, server_secret=server_secret())
    finally:
        await engine.dispose()


def print_enrolment(enrolment: totp.Enrolment) -> None:
    """The secret, once, on the operator's terminal (stdout, so it can be piped to a QR tool)."""
    out.print(enrolment.uri, markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"TOTP secret for {enrolment.username}: {enrolment.secret}\n"
        "Add the otpauth URI above (or the secret) to an authenticator app; the login asks "
        "for its 6-digit code. It is shown only now: enrol again to replace it.",
        markup=False,
        highlight=False,
    )


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
        """Create a staff account (password: 12 characters or more, not common, asked twice).

        A supervisor or admin is enrolled for TOTP at once (the otpauth URI is printed).
        Examples: `rnu users add ana --role supervisor`;
        in a script: `printf '%s\\n' "$PASSWORD" | rnu users add ana --password-stdin`.
        """
        if role not in STAFF_ROLES:
            raise typer.BadParameter(f"role must be one of {', '.join(STAFF_ROLES)}")
        password = read_password(password_stdin)
        check_password(password, username=username)  # before starting or reaching a server
        url = database_url()
        user = asyncio.run(_create(url, username=username, role=role, password=password))
        console.print(f"Created {user.role} {user.username}.")
        if user.role in TOTP_ROLES:
            console.print(f"A {user.role} logs in with a TOTP code: enrolling it now.")
            print_enrolment(asyncio.run(_enrol(url, user.username)))

    @users_app.command("totp-enrol")
    def users_totp_enrol(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
        """Give a staff account a new TOTP secret; prints the otpauth URI and the secret once.

        Mandatory for supervisors and admins (they cannot log in without it); optional for
        analysts (once enrolled, their login asks for the code too). Enrolling again replaces
        the secret: codes of the old one stop working.

        Example: `rnu users totp-enrol ana`
        """
        print_enrolment(asyncio.run(_enrol(database_url(), username)))

    @users_app.command("password")
    def users_password(
        username: Annotated[str, typer.Argument(help="Login name.")],
        password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    ) -> None:
        """Set a new password (unlocks the account, ends its sessions).

        Example: `rnu users password ana`
        """
        password = read_password(password_stdin)
        check_password(password, username=username)
        asyncio.run(_set(database_url(), username, password=password, active=None))
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
        check_password(password, username=username)
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
