"""Apply the Alembic migrations from code (the CLI and the tests share this)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from rnu.errors import InvalidInput

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    cfg.attributes["database_url"] = database_url
    return cfg


def _run_outside_event_loop(fn: Callable[..., None], *args: object) -> None:
    # env.py drives its own event loop, so it cannot run inside a running one (tests and
    # the app): async callers use asyncio.to_thread.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)
        return
    raise RuntimeError("call upgrade() via asyncio.to_thread from async code")


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; running it again changes nothing."""
    _run_outside_event_loop(command.upgrade, alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Undo migrations down to `revision`; an unknown revision is an InvalidInput.

    `rnu db downgrade nope` ended in Alembic's CommandError traceback.
    """
    try:
        _run_outside_event_loop(command.downgrade, alembic_config(database_url), revision)
    except CommandError as exc:
        known = ", ".join(["base", *sorted(revisions())])
        raise InvalidInput(f"cannot downgrade to {revision!r}: {exc}; known: {known}") from None


def revisions() -> list[str]:
    """Every migration's revision id."""
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused"))
    return [r.revision for r in script.walk_revisions()]


def heads(database_url: str = "postgresql://unused") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
