"""Schemathesis over the whole REST API, as every role with two identities each (issue 7, item 8).

A live uvicorn on loopback serves its own database: a small synthetic country loaded through the
real pipeline, plus two analysts and a supervisor, two volunteers of different districts, two
agencies with different scopes (and a same-scope peer of each, for ownership checks). Then:

* explicit cross-identity checks on every resource the policy makes private to its owner:
  uploads (``cargas``) and their quarantine files to the uploading agency, bulk-check results
  (``verificaciones``) and DCI transactions to the requesting agency, field tasks to the
  assigned volunteer, district rolls to the district's volunteers, a staff session to its user;
* a generic run of every REST operation of ``/api/v1/openapi.json`` as each identity (and
  without credentials), positive and negative data, where some path ids are swapped for real
  objects owned by someone else. Every case must pass ``not_a_server_error``, answer errors in
  the one shape ``{error, detail, mensaje}``, never succeed without the credentials the
  operation needs (Schemathesis' ``ignored_auth`` for declared schemes, our own table for the
  staff cookie and scopes), and never hand one identity an object private to another.

A toy API with each of those faults proves the checks can fail. The number of cases run per
identity is printed, with or without ``-s``.
"""

from __future__ import annotations

import asyncio
import csv
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
import schemathesis
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import ignored_auth

from tests.conftest import drop_test_database, make_test_database

pytestmark = pytest.mark.slow

EXAMPLES = 5  # per operation, identity and generation mode (10 cases each)
LIMA, CUSCO = "150101", "080101"
PERIOD = "2026-10"
PASSWORD = "clave-de-prueba-123"
DRILL_SECRET = "schemathesis-drill-secret"
PURPOSE = {"X-Purpose": "fiscalizacion"}
STAFF_API = "/api/v1/analista"
SHAPE = {"error", "detail", "mensaje"}
TOY_BEARER = HTTPBearer(auto_error=False)  # for the leaky toy API of the last test


# ---------------------------------------------------------------------------------------------
# The world: database, seeded country and accounts, live server, logged-in identities.


@dataclass
class Identity:
    """One caller: what it sends on every request, and what it may do."""

    name: str
    role: str  # public | analyst | supervisor | volunteer | agency
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    username: str | None = None
    totp_secret: str | None = None  # supervisors log in with a TOTP code
    totp_step: int = 0  # the last step a code was sent for: a code works once


@dataclass
class World:
    url: str
    identities: dict[str, Identity]
    peers: dict[str, Identity]  # same role and scopes as an identity, for ownership checks
    flags: dict[str, list[int]]  # district -> flag ids
    review_items: list[int]
    reports: dict[str, str]  # tracking code -> the private text sent with it
    pgh: list[tuple[str, str]]  # (dni, birth date) of real people
    owned: dict[str, dict[Any, str]] = field(default_factory=dict)  # param -> {id: owner}
    secured: set[str] = field(default_factory=set)  # labels of operations with a scheme
    open_files: list[str] = field(default_factory=list)

    def client(self, identity: Identity) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers=identity.headers, cookies=identity.cookies, timeout=30
        )


def start(app: Any) -> tuple[Any, threading.Thread, str]:
    """Serve ``app`` with uvicorn on a free loopback port, in a thread (its own loop)."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"


def serve(database_url: str, redis_url: str, data_dir: Path) -> tuple[Any, threading.Thread, str]:
    """The whole app, on its own database; uploads land in ``data_dir``."""
    from rnu.config import Settings
    from web.app import create_app

    app_settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        environment="test",
        db_pool_size=4,
        data_dir=data_dir,
        secret_key=DRILL_SECRET,
        # The fuzzer sends hundreds of failed logins from loopback, where every identity also
        # logs in: the throttle would (rightly) answer 429. It is proven in
        # tests/api/test_staff_login.py; here it only must not get in the way.
        login_address_backoff="1000000/1/1/60",
        login_account_backoff="1000000/1/1/60",
    )
    return start(create_app(app_settings))


@dataclass
class Seeded:
    keys: dict[str, str]
    flags: dict[str, list[int]]
    review_items: list[int]
    totp: dict[str, str] = field(default_factory=dict)  # username -> base32 secret


async def seed(database_url: str, country: Path) -> Seeded:
    """A synthetic country through the real loaders, then accounts, keys and flags."""
    from sqlalchemy import select
    from sqlmodel import col

    from rnu.db import make_engine, make_sessionmaker, session_scope
    from rnu.review.models import MatchReviewItem
    from rnu.sqlexec import execute
    from rnu.staff import totp
    from rnu.synth.build import generate
    from tests.factories import (
        create_api_client,
        create_flag,
        create_household,
        create_person,
        create_staff_user,
    )
    from usecases.loads import load_file, plan_directory

    generate(country, people=600, seed=20261127, period=PERIOD)
    for planned in plan_directory(country):
        await load_file(database_url, planned)

    engine = make_engine(database_url, pool_size=1, role="test")
    totp_secrets: dict[str, str] = {}
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            for username, role in (
                ("analista_a", "analyst"),
                ("analista_b", "analyst"),
                ("supervisora", "supervisor"),
            ):
                await create_staff_user(session, role=role, username=username, password=PASSWORD)
                if role == "supervisor":
                    enrolment = await totp.enrol(
                        session, username=username, server_secret=DRILL_SECRET.encode()
                    )
                    totp_secrets[username] = enrolment.secret
            for username, district in (
                ("voluntario_a", LIMA),
                ("voluntario_b", CUSCO),
                ("voluntario_a2", LIMA),
            ):
                await create_staff_user(
                    session, role="volunteer", username=username, districts=[district]
                )
            keys = {}
            for name, scopes in (
                ("agencia_a", ("person:read",)),
                ("agencia_a2", ("person:read",)),
                ("agencia_b", ("enrollment:write:JUNTOS",)),
                ("agencia_b2", ("enrollment:write:JUNTOS",)),
            ):
                _, keys[name] = await create_api_client(
                    session,
                    scopes=scopes,
                    agency=name.upper().replace("_", "-"),
                    rate_per_minute=1_000_000,
                    daily_quota=10_000_000,
                )
            flags: dict[str, list[int]] = {LIMA: [], CUSCO: []}
            for district in (LIMA, CUSCO):
                household = await create_household(session, ubigeo=district)
                for n in range(3):
                    person = await create_person(session, household=household, ubigeo=district)
                    flag = await create_flag(
                        session,
                        person_id=person.id,
                        ubigeo=district,
                        subject_key=f"drill:{district}:{n}",
                    )
                    flags[district].append(flag.id)
            items = await execute(session, select(col(MatchReviewItem.id)).limit(5))
            review_items = [int(i) for i in items.scalars()]
    finally:
        await engine.dispose()
    return Seeded(keys=keys, flags=flags, review_items=review_items, totp=totp_secrets)


def staff_login(url: str, identity: Identity) -> None:
    """Log in through the JSON API; keep the cookie and send the CSRF token on every request."""
    assert identity.username is not None
    body = {"usuario": identity.username, "contrasena": PASSWORD}
    if identity.totp_secret is not None:
        body["codigo"] = totp_code(identity)
    response = httpx.post(f"{url}{STAFF_API}/sesion", json=body, timeout=30)
    assert response.status_code == 200, response.text
    identity.cookies = {"rnu_sesion": response.cookies["rnu_sesion"]}
    identity.headers = {"X-CSRF-Token": response.json()["csrf_token"]}


def totp_code(identity: Identity) -> str:
    """A code for a step not used yet: the current one or the next (the server accepts ±1
    step), waiting for a fresh step only after two logins in one."""
    import pyotp

    assert identity.totp_secret is not None
    now = time.time()
    step = max(int(now // 30), identity.totp_step + 1)
    if step > int(now // 30) + 1:
        time.sleep((step - 1) * 30 - now + 0.5)
    identity.totp_step = step
    return str(pyotp.TOTP(identity.totp_secret).at(step * 30))


def ensure_logged_in(url: str, identity: Identity) -> None:
    """Fuzzed logouts end sessions: log in again before the next operation."""
    if identity.username is None:
        return
    # Whoami is staff-only; a volunteer's live session shows its home page instead.
    probe = "/voluntarios" if identity.role == "volunteer" else f"{STAFF_API}/sesion"
    alive = httpx.get(f"{url}{probe}", headers=identity.headers, cookies=identity.cookies)
    if alive.status_code != 200:
        staff_login(url, identity)


def read_pgh(country: Path) -> list[tuple[str, str]]:
    with (country / f"pgh_{PERIOD.replace('-', '')}.csv").open(encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter=";")
        return [
            (r["NU_DOC"], r["FE_NACIMIENTO"])
            for r in rows
            if r["TI_DOC"] == "1" and re.fullmatch(r"\d{8}", r["NU_DOC"] or "")
        ][:20]


@pytest.fixture(scope="module")
def world(server_url: str, redis_url: str) -> Iterator[World]:
    folder = Path(tempfile.mkdtemp(prefix="rnu-schemathesis-"))
    database_url = make_test_database(server_url, prefix="rnu_st")
    server = thread = None
    try:
        from rnu.migrate import upgrade
        from rnu.program.service import sync_programs_sync
        from rnu.ubigeo.service import load_reference_sync

        upgrade(database_url)
        load_reference_sync(database_url)
        sync_programs_sync(database_url)
        seeded = asyncio.run(seed(database_url, folder / "pais"))
        server, thread, url = serve(database_url, redis_url, folder / "data")

        def agency(name: str) -> Identity:
            scopes = (
                frozenset({"person:read"})
                if name.startswith("agencia_a")
                else frozenset({"enrollment:write:JUNTOS"})
            )
            headers = {"Authorization": f"Bearer {seeded.keys[name]}", **PURPOSE}
            return Identity(name, "agency", headers=headers, scopes=scopes)

        def staff(name: str, role: str) -> Identity:
            identity = Identity(name, role, username=name, totp_secret=seeded.totp.get(name))
            staff_login(url, identity)
            return identity

        identities = {
            "anonimo": Identity("anonimo", "public"),
            "analista_a": staff("analista_a", "analyst"),
            "analista_b": staff("analista_b", "analyst"),
            "supervisora": staff("supervisora", "supervisor"),
            "voluntario_a": staff("voluntario_a", "volunteer"),
            "voluntario_b": staff("voluntario_b", "volunteer"),
            "agencia_a": agency("agencia_a"),
            "agencia_b": agency("agencia_b"),
        }
        peers = {
            "agencia_a": agency("agencia_a2"),
            "agencia_b": agency("agencia_b2"),
            "voluntario_a": staff("voluntario_a2", "volunteer"),
        }
        yield World(
            url=url,
            identities=identities,
            peers=peers,
            flags=seeded.flags,
            review_items=seeded.review_items,
            reports={},
            pgh=read_pgh(folder / "pais"),
        )
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=15)
        drop_test_database(server_url, database_url)
        shutil.rmtree(folder, ignore_errors=True)
        flush_limits(redis_url)


def flush_limits(redis_url: str) -> None:
    """Our loopback address used up public limits; leave the shared Redis as tests expect it."""
    from redis import Redis

    client = Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# Explicit cross-identity checks: what one identity owns, its peer of the same role may not
# read or change. They run before the generic run, which changes flags and sessions at random.


def juntos_file() -> bytes:
    lines = [
        "PERIODO|UBIGEO|COD_HOGAR|DNI_TITULAR|APELLIDOS_NOMBRES_TITULAR|FEC_NAC|MONTO|ESTADO",
        "202610|150101|0005467977|1234567|SIN DATO, UNO|26/12/1981|200.00|ACTIVO",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


class TestOwnership:
    def test_uploads_are_private_to_the_uploading_agency(self, world: World) -> None:
        owner, peer = world.identities["agencia_b"], world.peers["agencia_b"]
        with world.client(owner) as client:
            created = client.post(
                "/api/v1/cargas",
                data={"programa": "JUNTOS", "periodo": PERIOD},
                files={"archivo": ("juntos_202610.txt", juntos_file(), "text/plain")},
            )
            assert created.status_code == 202, created.text
            carga = created.json()["id"]
            assert client.get(f"/api/v1/cargas/{carga}").status_code == 200
        world.owned.setdefault("carga_id", {})[carga] = owner.name
        for other in (peer, world.identities["agencia_a"]):
            with world.client(other) as client:
                for path in (f"/api/v1/cargas/{carga}", f"/api/v1/cargas/{carga}/cuarentena"):
                    response = client.get(path)
                    assert response.status_code == 404, (other.name, path, response.text)
                    assert SHAPE <= set(response.json())
        with world.client(world.identities["anonimo"]) as client:
            assert client.get(f"/api/v1/cargas/{carga}").status_code == 401

    def test_verification_results_are_private_to_the_requesting_agency(self, world: World) -> None:
        owner, peer = world.identities["agencia_a"], world.peers["agencia_a"]
        dni = world.pgh[0][0]
        with world.client(owner) as client:
            created = client.post(
                "/api/v1/verificaciones",
                files={"archivo": ("dni.csv", f"dni\n{dni}\n".encode(), "text/csv")},
            )
            assert created.status_code == 201, created.text
            job = created.json()["id"]
            mine = client.get(f"/api/v1/verificaciones/{job}/resultado")
            assert mine.status_code == 200
            assert dni in mine.text
        world.owned.setdefault("verificacion_id", {})[job] = owner.name
        with world.client(peer) as client:
            theirs = client.get(f"/api/v1/verificaciones/{job}/resultado")
            assert theirs.status_code == 404
            assert dni not in theirs.text
        with world.client(world.identities["agencia_b"]) as client:
            assert client.get(f"/api/v1/verificaciones/{job}/resultado").status_code == 403
        with world.client(world.identities["anonimo"]) as client:
            assert client.get(f"/api/v1/verificaciones/{job}/resultado").status_code == 401

    def test_dci_transactions_are_private_to_their_agency(self, world: World) -> None:
        owner, peer = world.identities["agencia_a"], world.peers["agencia_a"]
        txn = f"txn-{secrets.token_hex(6)}"

        def envelope(action: str, message: dict[str, Any]) -> dict[str, Any]:
            header = {
                "version": "1.0.0",
                "message_id": secrets.token_hex(8),
                "message_ts": "2026-11-27T10:00:00Z",
                "action": action,
                "sender_id": "minsa.gob.pe",
                "receiver_id": "rnu",
                "total_count": 1,
            }
            return {"signature": "", "header": header, "message": message}

        search = envelope(
            "search",
            {
                "transaction_id": txn,
                "search_request": [
                    {
                        "reference_id": "r1",
                        "timestamp": "2026-11-27T10:00:00Z",
                        "search_criteria": {
                            "query_type": "idtype-value",
                            "query": {"type": "DNI", "value": world.pgh[1][0]},
                        },
                    }
                ],
            },
        )
        status = envelope(
            "txn-status",
            {
                "transaction_id": f"st-{txn}",
                "txnstatus_request": {
                    "reference_id": "s1",
                    "txn_type": "search",
                    "attribute_type": "transaction_id",
                    "attribute_value": txn,
                },
            },
        )
        with world.client(owner) as client:
            assert client.post("/registry/sync/search", json=search).status_code == 200
            answer = client.post("/registry/sync/txn/status", json=status).json()
            assert answer["message"]["txnstatus_response"]["txn_status"]["status"] == "succ"
        for other in (peer, world.identities["agencia_b"]):
            with world.client(other) as client:
                answer = client.post("/registry/sync/txn/status", json=status).json()
                seen = answer["message"]["txnstatus_response"]["txn_status"]
                assert seen["status"] == "rjct", (other.name, seen)
                assert "summary" not in seen

    def test_field_tasks_belong_to_the_assigned_volunteer(self, world: World) -> None:
        analyst = world.identities["analista_a"]
        owner = world.identities["voluntario_a"]
        same_district = world.peers["voluntario_a"]
        other_district = world.identities["voluntario_b"]
        flag = world.flags[LIMA][0]
        marker = f"Verificar domicilio {secrets.token_hex(4)}"
        with world.client(analyst) as client:
            wrong = client.post(
                f"{STAFF_API}/alertas/{flag}/tareas",
                json={"voluntario": other_district.username, "instrucciones": marker},
            )
            assert wrong.status_code == 400  # a volunteer of another district gets no task
            created = client.post(
                f"{STAFF_API}/alertas/{flag}/tareas",
                json={"voluntario": owner.username, "instrucciones": marker},
            )
            assert created.status_code == 201, created.text
            task = created.json()["id"]
        for other in (same_district, other_district):
            ensure_logged_in(world.url, other)
            with world.client(other) as client:
                listing = client.get("/voluntarios/tareas")
                assert listing.status_code == 200
                assert marker not in listing.text
                answer = client.post(
                    f"/voluntarios/tareas/{task}",
                    data={"hallazgo": "confirma", "respuesta": "respuesta ajena"},
                )
                assert answer.status_code == 303
                assert "No+se+pudo" in answer.headers["location"], other.name
        ensure_logged_in(world.url, owner)
        with world.client(owner) as client:
            listing = client.get("/voluntarios/tareas")
            assert marker in listing.text
            assert "respuesta ajena" not in listing.text  # the task is still open, unanswered

    def test_district_rolls_only_for_the_districts_volunteers(self, world: World) -> None:
        volunteer = world.identities["voluntario_b"]  # Cusco
        ensure_logged_in(world.url, volunteer)
        with world.client(volunteer) as client:
            refused = client.get(
                "/voluntarios/padron", params={"ubigeo": LIMA, "programa": "JUNTOS"}
            )
            assert refused.status_code == 403
            # The REST roll never treats a volunteer's cookie as more than the public.
            public = httpx.get(
                f"{world.url}/api/v1/padrones", params={"programa": "JUNTOS", "ubigeo": LIMA}
            )
            cookie = client.get("/api/v1/padrones", params={"programa": "JUNTOS", "ubigeo": LIMA})
            assert cookie.status_code == public.status_code
            assert cookie.json() == public.json()

    def test_staff_sessions_and_tokens_are_personal(self, world: World) -> None:
        a, b = world.identities["analista_a"], world.identities["analista_b"]
        ensure_logged_in(world.url, a)
        ensure_logged_in(world.url, b)
        with world.client(b) as client:
            assert client.get(f"{STAFF_API}/sesion").json()["usuario"] == "analista_b"
            # B's cookie with A's CSRF token changes nothing.
            forged = client.post(
                f"{STAFF_API}/alertas/{world.flags[CUSCO][0]}/comentarios",
                json={"texto": "comentario con token ajeno"},
                headers={"X-CSRF-Token": a.headers["X-CSRF-Token"]},
            )
            assert forged.status_code == 403
            # B logging out ends B's session only.
            assert client.delete(f"{STAFF_API}/sesion").status_code == 204
        with world.client(a) as client:
            assert client.get(f"{STAFF_API}/sesion").json()["usuario"] == "analista_a"
            bulk = client.post(
                f"{STAFF_API}/alertas/lote", json={"accion": "confirm", "filtros": {}}
            )
            assert bulk.status_code == 403  # bulk actions are for supervisors
        staff_login(world.url, b)
        # Plain application/json only (no login CSRF from a cross-site form): other types refused.
        raw = b'{"usuario": "analista_a", "contrasena": "x"}'
        form = httpx.post(
            f"{world.url}{STAFF_API}/sesion",
            content=raw,
            headers={"Content-Type": "application/vnd.api+json"},
        )
        assert form.status_code == 415
        assert SHAPE <= set(form.json())

    def test_report_tracking_shows_status_not_what_was_sent(self, world: World) -> None:
        private = f"Vecino con camioneta nueva {secrets.token_hex(4)}"
        contact = "999888777"
        with world.client(world.identities["anonimo"]) as client:
            created = client.post(
                "/api/v1/reportes",
                json={
                    "motivo": "no_es_pobre",
                    "programa": "JUNTOS",
                    "ubigeo": LIMA,
                    "descripcion": private,
                    "contacto": contact,
                },
            )
            assert created.status_code == 201, created.text
            code = created.json()["codigo"]
        world.reports[code] = private
        for identity in world.identities.values():
            with world.client(identity) as client:
                seen = client.get(f"/api/v1/reportes/{code}")
                assert seen.status_code == 200, (identity.name, seen.text)
                assert private not in seen.text
                assert contact not in seen.text

    def test_a_citizen_lookup_needs_the_holders_own_second_fact(self, world: World) -> None:
        (dni_a, born_a), (_, born_b) = world.pgh[2], world.pgh[3]
        assert born_a != born_b
        with world.client(world.identities["anonimo"]) as client:
            mine = client.post("/api/v1/consulta", json={"dni": dni_a, "fecha_nacimiento": born_a})
            crossed = client.post(
                "/api/v1/consulta", json={"dni": dni_a, "fecha_nacimiento": born_b}
            )
            unknown = client.post(
                "/api/v1/consulta", json={"dni": "00000019", "fecha_nacimiento": born_b}
            )
        assert mine.status_code == 200, mine.text
        assert crossed.status_code == unknown.status_code
        assert crossed.json() == unknown.json()


# ---------------------------------------------------------------------------------------------
# The generic run.


@dataclass
class Problem:
    identity: str
    operation: str
    status: int
    what: str

    def __str__(self) -> str:
        return f"{self.identity} {self.operation} -> {self.status}: {self.what}"


def header_of(response: Any, name: str) -> str:
    values = response.headers.get(name.lower()) or response.headers.get(name) or []
    return values[0] if isinstance(values, list) and values else str(values or "")


def protected(operation: Any, world: World) -> bool:
    """Operations that need credentials: a declared scheme, or the staff session cookie."""
    path, method = operation.path, operation.method.upper()
    if path.startswith(STAFF_API):
        return not (path == f"{STAFF_API}/sesion" and method == "POST")
    return operation.label in world.secured


def may_succeed(identity: Identity, operation: Any, world: World) -> bool:
    """Whether the policy lets this identity ever get a 2xx from this operation."""
    path, method = operation.path, operation.method.upper()
    if not protected(operation, world):
        return True
    if path.startswith(STAFF_API):
        if identity.role not in {"analyst", "supervisor"}:
            return False
        return not (path == f"{STAFF_API}/alertas/lote" and identity.role != "supervisor")
    if identity.role != "agency":
        return False
    if path.startswith("/api/v1/verificaciones") or path in {
        "/registry/sync/search",
        "/registry/sync/enrolled",
        "/registry/search",
        "/registry/enrolled",
    }:
        return "person:read" in identity.scopes
    if path == "/api/v1/cargas" and method == "POST":
        return any(s.startswith("enrollment:write:") for s in identity.scopes)
    return True


def documented_error(path: str, body: Any) -> bool:
    """RNU's error shape, or on the DCI routes the spec's own: ``errors[{code, message}]``
    (HttpErrorResponse) or an envelope whose header says ``rjct`` (docs/dci.md)."""
    if not isinstance(body, dict):
        return False
    if path.startswith("/registry"):
        header = body.get("header")
        rejected = isinstance(header, dict) and header.get("status") == "rjct"
        errors = body.get("errors")
        coded = isinstance(errors, list) and all(
            isinstance(e, dict) and {"code", "message"} <= set(e) for e in errors
        )
        return rejected or (coded and bool(errors))
    return SHAPE <= set(body)


def problems_of(
    identity: Identity, case: Any, response: Any, headers: dict[str, str], world: World
) -> list[str]:
    found: list[str] = []
    operation = case.operation
    checks: list[CheckFunction] = [not_a_server_error]
    if identity.headers.get("Authorization"):
        checks.append(ignored_auth)
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except (Exception, BaseExceptionGroup) as exc:  # a group of check failures
        found.append(f"schemathesis: {str(exc)[:300]}")
    status = response.status_code
    if status >= 400:
        ctype = header_of(response, "content-type")
        if "json" in ctype:
            body = response.json()
            if not documented_error(operation.path, body):
                found.append(f"error body not in the documented shape: {str(body)[:200]}")
        elif operation.path.startswith("/api/v1"):
            found.append(f"error is not JSON ({ctype})")
    ok = 200 <= status < 300
    if ok and not may_succeed(identity, operation, world):
        found.append("succeeded without the credentials or scope the operation needs")
    if (
        identity.role == "public"
        and protected(operation, world)
        and case.meta is not None
        and case.meta.generation.mode == GenerationMode.POSITIVE
        and status not in (401, 403)
    ):
        found.append("a protected operation without credentials must answer 401/403")
    for name, value in (case.path_parameters or {}).items():
        owner = world.owned.get(name, {}).get(value)
        if ok and owner is not None and owner != identity.name:
            found.append(f"read {name}={value} owned by {owner}")
    return found


def real_ids(world: World, name: str) -> list[Any]:
    """Real objects for a path parameter, so fuzzing also reaches existing rows."""
    if name == "flag_id":
        return [i for ids in world.flags.values() for i in ids]
    if name == "item_id":
        return world.review_items
    if name == "codigo":
        return list(world.reports)
    if name == "archivo":
        return world.open_files
    return list(world.owned.get(name, {}))


def explore(
    world: World,
    identity: Identity,
    operation: Any,
    mode: GenerationMode,
    tally: Counter[str],
    problems: list[Problem],
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(0, 99))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: we collect, not raise
        derandomize=True,
    )
    def run(case: Any, pick: int) -> None:
        if case.path_parameters and pick % 2 == 0:
            for name in list(case.path_parameters):
                ids = real_ids(world, name)
                if ids:
                    case.path_parameters[name] = ids[pick % len(ids)]
        headers = dict(identity.headers)
        response = case.call(
            base_url=world.url, headers=headers, cookies=dict(identity.cookies), timeout=30
        )
        tally[identity.name] += 1
        for what in problems_of(identity, case, response, headers, world):
            problems.append(Problem(identity.name, operation.label, response.status_code, what))

    try:
        run()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE  # nothing to negate (no parameters, no body)


def test_every_rest_operation_as_every_identity(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    with world.client(world.identities["anonimo"]) as client:
        listing = client.get("/api/v1/datos-abiertos").json()
    world.open_files = re.findall(r"/api/v1/datos-abiertos/([\w.\-]+\.(?:csv|json))", str(listing))
    spec = httpx.get(f"{world.url}/api/v1/openapi.json").json()
    world.secured = {
        f"{method.upper()} {path}"
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if operation.get("security")
    }
    schema = schemathesis.openapi.from_url(f"{world.url}/api/v1/openapi.json")
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        # GraphQL has its own run: tests/api/test_dci_schemathesis.py
        if isinstance(result, Ok) and result.ok().path != "/graphql"
    ]
    assert len(operations) >= 35
    tally: Counter[str] = Counter()
    problems: list[Problem] = []
    started = time.monotonic()
    for operation in operations:
        for identity in world.identities.values():
            ensure_logged_in(world.url, identity)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                explore(world, identity, operation, mode, tally, problems)
    elapsed = time.monotonic() - started
    summary = (
        f"schemathesis over {len(operations)} REST operations in {elapsed:.0f} s: "
        + ", ".join(f"{name} {count}" for name, count in tally.items())
        + f"; total {sum(tally.values())} cases, {len(problems)} problems"
    )
    with capsys.disabled():  # the issue asks for the count: shown even without -s
        sys.stdout.write(f"\n{summary}\n")
    distinct = sorted({str(p) for p in problems})
    assert not problems, summary + "\n" + "\n".join(distinct[:40])


def test_the_checks_catch_a_leaky_api() -> None:
    """A toy API with every fault the drill looks for: the checks must flag each one."""
    toy = FastAPI()

    @toy.get("/api/v1/cargas/{carga_id}")
    async def leaky(
        carga_id: int, key: Annotated[HTTPAuthorizationCredentials | None, Depends(TOY_BEARER)]
    ) -> dict[str, int]:
        return {"id": carga_id}  # declares a Bearer key, checks none, serves anyone's upload

    @toy.get("/api/v1/roto")
    async def broken() -> JSONResponse:
        return JSONResponse({"error": "sin detalle"}, status_code=400)

    server, thread, url = start(toy)
    try:
        agency = Identity("agencia", "agency", headers={"Authorization": "Bearer cualquiera"})
        anonymous = Identity("anonimo", "public")
        world = World(url, {}, {}, {}, [], {}, [], owned={"carga_id": {7: "otra"}})
        world.secured = {"GET /api/v1/cargas/{carga_id}"}
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        tally: Counter[str] = Counter()
        problems: list[Problem] = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok)
            for identity in (agency, anonymous):
                explore(world, identity, result.ok(), GenerationMode.POSITIVE, tally, problems)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
    found = {(p.identity, p.what.split(":")[0]) for p in problems}
    # Schemathesis' ignored_auth: the operation answers the same without the key.
    assert any(
        p.identity == "agencia" and "accepts requests without authentication" in p.what
        for p in problems
    )
    assert ("anonimo", "a protected operation without credentials must answer 401/403") in found
    assert ("agencia", "read carga_id=7 owned by otra") in found
    assert ("anonimo", "error body not in the documented shape") in found
