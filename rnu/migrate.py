"""Apply the Alembic migrations from code (the CLI and the tests share this)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    cfg.attributes["database_url"] = database_url
    return cfg


def _in_thread_if_loop_running(fn: object, *args: object) -> None:
    # env.py drives its own event loop; from inside a running loop (tests, the app)
    # it must run on another thread.
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        fn(*args)  # type: ignore[operator]
        return
    raise RuntimeError("call upgrade() via asyncio.to_thread from async code")


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; running it again changes nothing."""
    _in_thread_if_loop_running(command.upgrade, alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    _in_thread_if_loop_running(command.downgrade, alembic_config(database_url), revision)


def heads(database_url: str = "postgresql://unused") -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
