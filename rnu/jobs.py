"""Background jobs on PostgreSQL (procrastinate): sector uploads and death notifications.

Why procrastinate: the jobs live in the system of record, so they survive a Redis outage, and
they are enqueued by an INSERT in the *same transaction* as the rows they follow (an upload
row, a delivery row): a rolled-back request leaves no orphan job, and a committed one always
has its job. ``defer`` does exactly that through procrastinate's own SQL function.

This module holds the queue's machinery only; which function runs for which task is the
composition root's business (``cli.worker``), so nothing here imports the code it runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import procrastinate
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency.webhooks import WebhookPolicy
from rnu.embedded import plain_url

log = logging.getLogger("rnu.jobs")

QUEUE = "rnu"
TASK_UPLOAD = "rnu:load_upload"
TASK_DELIVER = "rnu:deliver_notification"
TASK_DCI_SEARCH = "rnu:dci_search"
TASK_DCI_CALLBACK = "rnu:dci_callback"
DELIVERY_ATTEMPTS = 8


@dataclass
class WorkerConfig:
    """What tasks need from the process running them (set by ``run_worker``)."""

    database_url: str = ""
    secret: bytes = b""
    retry_base_s: float = 30.0  # 30 s, 1 min, 2 min, … capped at an hour
    allow_plain_http: bool = False
    webhook_policy: WebhookPolicy = field(default_factory=WebhookPolicy)
    # The Redis of the rate and record counters ("": resolved when first needed, see
    # ``counters_url``): an asynchronous DCI search returns the records it reserved but did
    # not use to the agency's quota.
    redis_url: str = ""


config = WorkerConfig()


class Backoff(BaseRetryStrategy):
    """Exponential backoff whose base the worker sets (seconds in production, ms in tests)."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> RetryDecision | None:
        if job.attempts + 1 >= self.max_attempts:
            return None
        wait = min(config.retry_base_s * 2**job.attempts, 3600.0)
        return RetryDecision(retry_in={"milliseconds": int(wait * 1000)})


_apps: dict[str, procrastinate.App] = {}


def make_app(database_url: str, tasks: Callable[[], procrastinate.Blueprint]) -> procrastinate.App:
    """The procrastinate app for a database, one per URL, with the tasks `tasks()` declares.

    `tasks` makes a fresh blueprint per app: attaching one blueprint to a second app
    renames its tasks.
    """
    app = _apps.get(database_url)
    if app is None:
        app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=plain_url(database_url))
        )
        app.add_tasks_from(tasks(), namespace="rnu")
        _apps[database_url] = app
    return app


async def defer(
    session: AsyncSession,
    task_name: str,
    args: dict[str, Any],
    *,
    delay: timedelta | None = None,
) -> int:
    """Enqueue a job inside the caller's transaction; it exists only if that commits."""
    result = await (await session.connection()).execute(
        text(
            """
            SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(
                :queue, :task, 0, NULL, NULL, CAST(:args AS jsonb),
                CASE WHEN CAST(:delay_s AS double precision) IS NULL THEN NULL
                     ELSE now() + make_interval(secs => CAST(:delay_s AS double precision)) END
            )::procrastinate_job_to_defer_v1]))
            """
        ),
        {
            "queue": QUEUE,
            "task": task_name,
            "args": json.dumps(args),
            "delay_s": delay.total_seconds() if delay else None,
        },
    )
    return int(result.scalar_one())


async def run_worker(
    database_url: str,
    tasks: Callable[[], procrastinate.Blueprint],
    *,
    wait: bool = True,
    concurrency: int = 2,
    secret: bytes | None = None,
    retry_base_s: float | None = None,
    allow_plain_http: bool | None = None,
    webhook_policy: WebhookPolicy | None = None,
    redis_url: str | None = None,
) -> None:
    """Run jobs until stopped (``wait=False``: only the jobs due now, then return)."""
    from rnu.config import get_settings

    settings = get_settings()
    config.redis_url = redis_url or settings.redis_counters_url or settings.redis_url or ""
    config.database_url = database_url
    config.secret = secret or settings.secret_key.get_secret_value().encode()
    if retry_base_s is not None:
        config.retry_base_s = retry_base_s
    config.allow_plain_http = (
        allow_plain_http if allow_plain_http is not None else settings.environment != "production"
    )
    config.webhook_policy = webhook_policy or settings.webhook_policy()
    app = make_app(database_url, tasks)
    async with app.open_async():
        await app.run_worker_async(
            queues=[QUEUE],
            wait=wait,
            concurrency=concurrency,
            install_signal_handlers=wait,
            listen_notify=wait,
            delete_jobs="never",
        )


def counters_url() -> str:
    """The counters' Redis for a task: the configured one, else the embedded one (started or
    reused on first use, so a worker that never needs Redis never starts it)."""
    if not config.redis_url:
        from rnu.config import get_settings
        from rnu.embedded import start_embedded_redis

        config.redis_url = start_embedded_redis(get_settings().data_dir)
    return config.redis_url
