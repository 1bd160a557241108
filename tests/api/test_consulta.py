"""POST /api/v1/consulta: verified self-lookup, no oracle, limits, cache, no-store."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from privacy.masking import dni_hmac
from rnu.audit.models import AuditEvent
from rnu.config import Settings
from rnu.normalize.documents import dni_check_chars
from tests.api import public_support
from tests.api.public_support import TEST_SETTINGS, bind, make_client, seed_person
from tests.factories import create_api_client

bound_state = public_support.bound_state
public_client = public_support.public_client

SECRET = b"test-secret-for-public"
URL = "/api/v1/consulta"


async def _person(session: AsyncSession, dni: str = "07654321", **kw: Any):
    return await seed_person(session, doc_number=dni, birth_on=date(1950, 3, 9), **kw)


class TestConsulta:
    async def test_success_shows_programs_cse_and_traces(self, session, public_client):
        await _person(session)
        response = await public_client.post(
            URL, json={"dni": "07654321", "fecha_nacimiento": "1950-03-09"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["persona"]["dni"] == "07654321"
        assert body["persona"]["audience"] == "citizen_self"
        assert body["hogar"]["cse"] == "PE"
        assert body["hogar"]["cse_texto"] == "pobre extremo"
        assert body["hogar"]["vigente_hasta"] == "2028-01-01"
        assert [p["codigo"] for p in body["programas"]] == ["PENSION65"]
        assert body["programas"][0]["estado"] == "active"
        trace = body["elegibilidad"][0]
        assert trace["programa"] == "PENSION65"
        assert trace["cumple"] is True
        assert any("65 años o más" in s for s in trace["explicacion"])

    async def test_check_character_is_accepted(self, session, public_client):
        await _person(session)
        digit, letter = dni_check_chars("07654321")
        for dni in (f"07654321{digit}", f"07654321-{letter}", f"07654321{letter.lower()}"):
            response = await public_client.post(
                URL, json={"dni": dni, "fecha_nacimiento": "1950-03-09"}
            )
            assert response.status_code == 200, dni

    async def test_wrong_check_character_is_an_input_error(self, session, public_client):
        digit, _ = dni_check_chars("07654321")
        wrong = str((int(digit) + 1) % 10)
        response = await public_client.post(
            URL, json={"dni": f"07654321{wrong}", "fecha_nacimiento": "1950-03-09"}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "InvalidInput"

    async def test_unknown_fields_are_refused(self, public_client):
        response = await public_client.post(
            URL, json={"dni": "07654321", "fecha_nacimiento": "1950-03-09", "rol": "analyst"}
        )
        assert response.status_code == 422
        assert response.json()["error"] == "ValidationError"
        assert "07654321" not in response.text

    async def test_unknown_dni_and_wrong_factor_look_the_same(self, session, public_client):
        await _person(session)
        unknown = await public_client.post(
            URL, json={"dni": "07654322", "fecha_nacimiento": "1950-03-09"}
        )
        wrong = await public_client.post(
            URL, json={"dni": "07654321", "fecha_nacimiento": "1950-03-10"}
        )
        assert unknown.status_code == wrong.status_code == 404
        assert unknown.content == wrong.content
        assert unknown.headers["cache-control"] == wrong.headers["cache-control"] == "no-store"
        assert unknown.json()["mensaje"] == "No encontramos lo que busca."

    async def test_access_log_lists_reads_of_my_record(self, session, public_client):
        await _person(session)
        client, _ = await create_api_client(
            session, agency="FISE-OSINERGMIN", public_name="Fondo de Inclusión Social Energético"
        )
        mine, other = dni_hmac(SECRET, "07654321"), dni_hmac(SECRET, "07654329")
        # 15:00 and 20:30 UTC on 2 December are 10:00 and 15:30 in Lima: one group of two.
        for at in (
            datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
            datetime(2026, 12, 2, 20, 30, tzinfo=UTC),
        ):
            session.add(AuditEvent(
                at=at, actor_kind="agency", actor_id=f"agency:{client.id}:FISE-OSINERGMIN",
                action="graphql.person", purpose="elegibilidad", subject_hmac=mine,
            ))  # fmt: skip
        session.add(AuditEvent(
            at=datetime(2026, 12, 2, 16, 0, tzinfo=UTC), actor_kind="agency",
            actor_id="agency:999:OTRA", action="person.read", purpose="pago", subject_hmac=other,
        ))  # fmt: skip
        await session.flush()
        body = (
            await public_client.post(
                URL, json={"dni": "07654321", "fecha_nacimiento": "1950-03-09"}
            )
        ).json()
        assert body["accesos"] == [
            {
                "quien": "Fondo de Inclusión Social Energético",
                "tipo": "Entidad del Estado",
                "motivo": "Verificar si usted cumple los requisitos de un programa",
                "motivo_codigo": "elegibilidad",
                "dia": "2026-12-02",
                "fecha": "2026-12-02T20:30:00Z",
                "primera": "2026-12-02T15:00:00Z",
                "veces": 2,
                "cuando": "2 de diciembre de 2026, de 10:00 a 15:30",
            }
        ]

    async def test_cached_answer_is_keyed_by_hmac_and_goes_stale_with_the_version(
        self, session, public_client, redis
    ):
        person = await _person(session)
        payload = {"dni": "07654321", "fecha_nacimiento": "1950-03-09"}
        first = (await public_client.post(URL, json=payload)).json()
        keys = [k.decode() for k in await redis.keys("rnu:*lookup*")]
        assert len(keys) == 1
        assert "07654321" not in keys[0]
        assert dni_hmac(SECRET, "07654321") in keys[0]
        # A change without a version bump is served from cache...
        await (await session.connection()).execute(
            text(
                "UPDATE household SET cse = 'NP' WHERE id = "
                "(SELECT household_id FROM household_member WHERE person_id = :p)"
            ),
            {"p": person.id},
        )
        assert (await public_client.post(URL, json=payload)).json() == first
        # ...and a committed batch (version bump) makes the old answer unreachable.
        await (await session.connection()).execute(
            text("UPDATE registry_state SET data_version = data_version + 1 WHERE id = 1")
        )
        fresh = (await public_client.post(URL, json=payload)).json()
        assert fresh["hogar"]["cse"] == "NP"


class TestOracle:
    @pytest.mark.slow
    async def test_latency_of_unknown_dni_and_wrong_factor(self, session, app_state):
        for i in range(20):
            await _person(session, dni=f"{30000000 + i:08d}")
        state = bind(
            app_state,
            session,
            lookup_per_client=10_000,
            lookup_failures_per_dni=10_000,
            lookup_client_failure_tiers="100000/3600",
        )
        async with await make_client(state) as client:
            times: dict[str, list[float]] = {"unknown": [], "wrong": []}
            bodies: dict[str, set[bytes]] = {"unknown": set(), "wrong": set()}
            for round_ in range(60):
                for kind in ("unknown", "wrong") if round_ % 2 else ("wrong", "unknown"):
                    i = round_ % 20
                    dni = f"{30000000 + i:08d}" if kind == "wrong" else f"{31000000 + i:08d}"
                    fecha = "1950-03-10" if kind == "wrong" else "1950-03-09"
                    start = time.perf_counter()
                    response = await client.post(URL, json={"dni": dni, "fecha_nacimiento": fecha})
                    times[kind].append(time.perf_counter() - start)
                    assert response.status_code == 404
                    bodies[kind].add(response.content)
        assert bodies["unknown"] == bodies["wrong"]
        assert len(bodies["unknown"]) == 1
        gap_ms = abs(statistics.median(times["unknown"]) - statistics.median(times["wrong"])) * 1000
        assert gap_ms < 5, f"median latency differs by {gap_ms:.2f} ms"


class TestLimits:
    async def test_one_client_is_stopped_at_its_limit(self, session, app_state):
        # The request window alone (the failure budget, tested apart, would stop it at 10).
        state = bind(
            app_state, session, lookup_per_client=20, lookup_client_failure_tiers="1000/3600"
        )
        async with await make_client(state) as client:
            statuses = []
            for n in range(60):
                response = await client.post(
                    URL, json={"dni": f"{50000000 + n:08d}", "fecha_nacimiento": "1970-01-01"}
                )
                statuses.append(response.status_code)
        assert statuses[:20] == [404] * 20
        assert set(statuses[20:]) == {429}
        assert response.json()["error"] == "RateLimited"
        assert int(response.headers["retry-after"]) > 0

    @pytest.mark.slow
    async def test_ten_thousand_sequential_guesses_are_stopped(self, app_state):
        # The app's own connections (no seeded rows needed); one guess after another, each
        # the next DNI, as an enumeration script would send them. Deterministic: the client's
        # failure budget (10 an hour) starts at its first failure, not on a clock boundary, and
        # event-loop lag can no longer open the Redis breaker and hand out fallback budgets
        # (rnu/cache.py ThreadProbe) — the two ways this test used to fail one run in three.
        limits = {"lookup_per_client": 20, "lookup_window_s": 3600}
        state = replace(app_state, settings=Settings(**(TEST_SETTINGS | limits)))
        async with await make_client(state) as client:
            statuses = []
            for n in range(10_000):
                response = await client.post(
                    URL, json={"dni": f"{60000000 + n:08d}", "fecha_nacimiento": "1970-01-01"}
                )
                statuses.append(response.status_code)
        assert statuses == [404] * 10 + [429] * 9_990

    async def test_a_dni_needs_its_check_character_after_failures_from_many_clients(
        self, session, app_state
    ):
        await _person(session)
        state = bind(app_state, session, trusted_proxies="127.0.0.0/8", lookup_failures_per_dni=5)
        async with await make_client(state) as client:
            statuses = []
            for n in range(100):
                response = await client.post(
                    URL,
                    json={"dni": "07654321", "fecha_nacimiento": f"19{n % 90 + 10:02d}-01-01"},
                    headers={"X-Forwarded-For": f"10.1.{n // 250}.{n % 250 + 1}"},
                )
                statuses.append(response.status_code)
            # The holder is not locked out: with the check character from the card, in.
            check = dni_check_chars("07654321")[0]
            holder = await client.post(
                URL,
                json={"dni": f"07654321-{check}", "fecha_nacimiento": "1950-03-09"},
                headers={"X-Forwarded-For": "10.9.9.9"},
            )
        assert statuses[:5] == [404] * 5
        assert set(statuses[5:]) == {428}
        assert holder.status_code == 200

    async def test_spoofed_forwarded_for_from_untrusted_peer_is_ignored(self, session, app_state):
        state = bind(app_state, session, lookup_per_client=3)  # no trusted proxies
        async with await make_client(state) as client:
            statuses = [
                (
                    await client.post(
                        URL,
                        json={"dni": f"{70000000 + n:08d}", "fecha_nacimiento": "1970-01-01"},
                        headers={"X-Forwarded-For": f"203.0.113.{n}"},
                    )
                ).status_code
                for n in range(6)
            ]
        assert statuses == [404, 404, 404, 429, 429, 429]
