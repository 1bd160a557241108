"""DCI request envelopes for the tests (header fields as the spec requires them), and a
loopback receiver for RNU's callbacks."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

OWN_PROGRAMME = ("events:subscribe", "person:read", "enrollment:write:PENSION65")


def envelope(action: str, message: dict[str, Any], **header: Any) -> dict[str, Any]:
    return {
        "signature": "",
        "header": {
            "version": "1.0.0",
            "message_id": str(uuid.uuid4()),
            "message_ts": "2026-11-27T10:00:00Z",
            "action": action,
            "sender_id": "pension65.gob.pe",
            "total_count": 1,
            **header,
        },
        "message": message,
    }


def subscribe_envelope(url: str, programme: str | None = "PENSION65") -> dict[str, Any]:
    """One DEATH_REGISTERED subscription item, for ``programme`` (None: the agency's own)."""
    criteria: dict[str, Any] = {"reg_event_type": "DEATH_REGISTERED", "notify_url": url}
    if programme:
        criteria["programme_code"] = programme
    return envelope(
        "subscribe",
        {
            "transaction_id": f"t-{uuid.uuid4().hex[:8]}",
            "subscribe_request": [
                {
                    "reference_id": "r1",
                    "timestamp": "2026-11-27T10:00:00Z",
                    "subscribe_criteria": criteria,
                }
            ],
        },
    )


class Hook:
    """A loopback webhook receiver that fails the first ``failures`` calls with HTTP 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.paths: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.calls.append((dict(self.headers), body))
                hook.paths.append(self.path)
                failing = len(hook.calls) <= hook.failures
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"  # a sender_uri
        self.url = f"{self.base}/defunciones"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
