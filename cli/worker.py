"""`rnu worker` and the job queue's task registration: which function runs for which task.

This is the composition root of the background side: `rnu.jobs` holds the queue's
machinery (defer in the caller's transaction, backoff) and knows no task's code; the tasks
here call the use cases with the worker's configuration.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
from collections.abc import Callable
from typing import Annotated

import procrastinate
import typer

from api.dci import worker as dci_worker
from cli.consoles import err
from rnu import jobs
from rnu.agency.webhooks import WebhookPolicy
from rnu.config import get_settings
from usecases import notifications
from usecases.loads import UploadOutcome, fail_abandoned_uploads, fail_unfinished_upload


async def load_upload(
    context: procrastinate.JobContext, upload_id: int, confirm_drop: bool = False
) -> None:
    """Run an agency's uploaded roll through the same flow as `rnu load`, in a child process.

    The child (`cli.upload_job`) has the address-space and CPU limits of the settings
    (`RNU_UPLOAD_MAX_MEMORY_MB`, `RNU_UPLOAD_MAX_SECONDS`) and is killed past the wall-time
    limit: an upload that explodes ends its own process, not the worker, and is marked
    failed with the reason.
    """
    settings = get_settings()
    err.print(f"upload {upload_id}: loading…", markup=False, highlight=False)
    env = {**os.environ, "RNU_DATABASE_URL": jobs.config.database_url}
    argv = [sys.executable, "-m", "cli.upload_job", str(upload_id)]
    child = await asyncio.create_subprocess_exec(
        *argv,
        *(["--confirm-drop"] if confirm_drop else []),
        env=env,
        preexec_fn=_limits(settings.upload_max_memory_mb, settings.upload_max_seconds),
    )
    try:
        code = await asyncio.wait_for(child.wait(), timeout=settings.upload_max_seconds)
    except TimeoutError:
        child.kill()
        await child.wait()
        reason = f"took longer than the limit of {settings.upload_max_seconds:,} s"
    else:
        if code == 0:
            return
        reason = (
            f"its process was killed by signal {-code}" if code < 0 else f"it exited with {code}"
        )
        reason += (
            f" (limits: {settings.upload_max_memory_mb:,} MiB of memory, "
            f"{settings.upload_max_seconds:,} s)"
        )
    error = f"the load stopped: {reason}"
    if await fail_unfinished_upload(jobs.config.database_url, upload_id, error):
        err.print(f"upload {upload_id}: failed — {error}", markup=False, highlight=False)


def _limits(memory_mb: int, cpu_s: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))

    return apply


def describe(outcome: UploadOutcome) -> str:
    """One line on what an upload's job did."""
    head = f"upload {outcome.upload_id}: {outcome.status}"
    if outcome.error:
        return f"{head} — {outcome.error}"
    r = outcome.result
    if r is None:
        return f"{head} (nothing to do)"
    if r.status == "already_loaded":
        return f"{head} — the same file was already loaded as batch {r.batch_id}"
    return (
        f"{head} — batch {r.batch_id} {r.source} {r.period}: {r.rows_read:,} rows read, "
        f"{r.rows_loaded:,} loaded, {r.rows_quarantined:,} quarantined"
    )


async def deliver_notification(context: procrastinate.JobContext, delivery_id: int) -> None:
    """POST one event to a subscriber; raising makes procrastinate retry with backoff."""
    attempt = (context.job.attempts if context.job else 0) + 1
    err.print(f"death notice {delivery_id}: attempt {attempt}", markup=False, highlight=False)
    await notifications.deliver(
        jobs.config.database_url,
        delivery_id,
        secret=jobs.config.secret,
        policy=jobs.config.webhook_policy,
        is_last_attempt=attempt >= jobs.DELIVERY_ATTEMPTS,
    )


async def dci_search(context: procrastinate.JobContext, transaction_row_id: int) -> None:
    """Answer an asynchronous DCI search and POST it to the agency's on-search endpoint."""
    attempt = (context.job.attempts if context.job else 0) + 1
    await dci_worker.run_search(
        jobs.config.database_url,
        transaction_row_id,
        secret=jobs.config.secret,
        policy=jobs.config.webhook_policy,
        is_last_attempt=attempt >= jobs.DELIVERY_ATTEMPTS,
    )


async def dci_callback(context: procrastinate.JobContext, transaction_row_id: int) -> None:
    """POST a DCI answer (on-subscribe, on-unsubscribe, txn-on-status) to the agency."""
    attempt = (context.job.attempts if context.job else 0) + 1
    await dci_worker.run_callback(
        jobs.config.database_url,
        transaction_row_id,
        secret=jobs.config.secret,
        policy=jobs.config.webhook_policy,
        is_last_attempt=attempt >= jobs.DELIVERY_ATTEMPTS,
    )


def tasks() -> procrastinate.Blueprint:
    """Every task the worker runs, on a fresh blueprint (see `rnu.jobs.make_app`)."""
    blueprint = procrastinate.Blueprint()
    blueprint.task(name="load_upload", queue=jobs.QUEUE, pass_context=True)(load_upload)
    blueprint.task(
        name="deliver_notification",
        queue=jobs.QUEUE,
        pass_context=True,
        retry=jobs.Backoff(jobs.DELIVERY_ATTEMPTS),
    )(deliver_notification)
    blueprint.task(
        name="dci_search",
        queue=jobs.QUEUE,
        pass_context=True,
        retry=jobs.Backoff(jobs.DELIVERY_ATTEMPTS),
    )(dci_search)
    blueprint.task(
        name="dci_callback",
        queue=jobs.QUEUE,
        pass_context=True,
        retry=jobs.Backoff(jobs.DELIVERY_ATTEMPTS),
    )(dci_callback)
    return blueprint


async def run_worker(
    database_url: str,
    *,
    wait: bool = True,
    concurrency: int = 2,
    secret: bytes | None = None,
    retry_base_s: float | None = None,
    allow_plain_http: bool | None = None,
    webhook_policy: WebhookPolicy | None = None,
    redis_url: str | None = None,
) -> None:
    """Run jobs until stopped (``wait=False``: only the jobs due now, then return).

    First, uploads a dead worker left `running` are marked failed (with their jobs).
    """
    for upload_id in await fail_abandoned_uploads(database_url):
        err.print(f"upload {upload_id}: failed — its worker had stopped", highlight=False)
    await jobs.run_worker(
        database_url,
        tasks,
        wait=wait,
        concurrency=concurrency,
        secret=secret,
        retry_base_s=retry_base_s,
        allow_plain_http=allow_plain_http,
        webhook_policy=webhook_policy,
        redis_url=redis_url,
    )


def register(app: typer.Typer, database_url: Callable[[], str]) -> None:
    """Add `rnu worker` to the main CLI."""

    @app.command()
    def worker(
        once: Annotated[
            bool, typer.Option("--once", help="Run the jobs waiting now, then exit.")
        ] = False,
        concurrency: Annotated[int, typer.Option(help="Jobs run at the same time.")] = 2,
    ) -> None:
        """Run background jobs (sector uploads, death notifications). One per machine or many.

        Example: `rnu worker`
        """
        url = database_url()
        what = "the jobs waiting now" if once else "jobs until Ctrl+C"
        err.print(f"Worker: running {what} ({concurrency} at a time).")
        asyncio.run(run_worker(url, wait=not once, concurrency=concurrency))
        if once:
            err.print("Worker: no more jobs due.")
