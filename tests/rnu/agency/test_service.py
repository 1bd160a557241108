"""Agency keys: shown once, stored hashed, found by prefix, rotated and revoked."""

from __future__ import annotations

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from rnu.agency import service
from rnu.errors import Conflict, InvalidInput


class TestKeys:
    async def test_key_is_stored_only_as_a_salted_hash(self, session: AsyncSession) -> None:
        issued = await service.add_client(session, agency="MIDIS-P65", scopes=["person:read"])
        prefix, secret = issued.key.split(".")
        assert issued.client.key_prefix == prefix
        assert secret not in issued.client.key_hash
        assert issued.client.key_hash.startswith("sha256$")
        found = await service.authenticate(session, key=issued.key)
        assert found is not None
        assert found.id == issued.client.id

    @pytest.mark.parametrize(
        "bad", ["", "rnu_x", "rnu_deadbeef.wrong", "other_123.abc", "rnu_deadbeefff0.abc"]
    )
    async def test_wrong_keys_are_refused(self, session: AsyncSession, bad: str) -> None:
        await service.add_client(session, agency="SIS", scopes=["person:read"])
        assert await service.authenticate(session, key=bad) is None

    async def test_rotate_and_revoke(self, session: AsyncSession) -> None:
        first = await service.add_client(session, agency="FISE", scopes=["person:read"])
        second = await service.rotate(session, ref="FISE")
        assert await service.authenticate(session, key=first.key) is None
        assert await service.authenticate(session, key=second.key) is not None
        await service.revoke(session, ref=str(first.client.id))
        assert await service.authenticate(session, key=second.key) is None
        with pytest.raises(Conflict):
            await service.rotate(session, ref="FISE")

    async def test_the_same_salt_is_never_reused(self, session: AsyncSession) -> None:
        a = await service.add_client(session, agency="A1", scopes=[])
        b = await service.add_client(session, agency="B1", scopes=[])
        assert a.client.key_hash.split("$")[1] != b.client.key_hash.split("$")[1]


class TestScopes:
    def test_known_scopes_and_program_writes(self) -> None:
        assert service.check_scopes(["person:read", "enrollment:write:JUNTOS", " "]) == [
            "enrollment:write:JUNTOS",
            "person:read",
        ]

    @pytest.mark.parametrize(
        "scopes",
        [["admin"], ["enrollment:write:NOPE"], ["person:read:sensitive"]],
    )
    def test_unknown_or_incomplete_scopes(self, scopes: list[str]) -> None:
        with pytest.raises(InvalidInput):
            service.check_scopes(scopes)

    async def test_one_client_per_agency(self, session: AsyncSession) -> None:
        await service.add_client(session, agency="JUNTOS", scopes=[])
        with pytest.raises(Conflict):
            await service.add_client(session, agency="JUNTOS", scopes=[])


class TestSignature:
    def test_signature_covers_timestamp_and_body(self) -> None:
        one = service.sign("s", "1700000000", b"{}")
        assert one.startswith("sha256=")
        assert one != service.sign("s", "1700000001", b"{}")
        assert one != service.sign("s", "1700000000", b"{ }")
