"""Citizens checking their own coverage: many distinct people, each with the right birth date."""

from __future__ import annotations

import random

from locust import HttpUser, between, constant, task

from .common import address_for, data


def lookup(user: HttpUser) -> None:
    dni, birth = random.choice(data()["lookups"])
    with user.client.post(
        "/api/v1/consulta",
        json={"dni": dni, "fecha_nacimiento": birth},
        headers={"X-Forwarded-For": address_for(dni)},
        name="[citizen] lookup",
        catch_response=True,
    ) as response:
        if response.status_code != 200:
            response.failure(f"status {response.status_code}")
            return
        body = response.json()
        if not isinstance(body.get("programas"), list) or "persona" not in body:
            response.failure("body lacks persona/programas")
        else:
            response.success()


class Citizen(HttpUser):
    """A citizen after the announcement: looks up, reads, maybe looks again later."""

    weight = 70
    wait_time = between(1, 5)

    @task
    def self_lookup(self) -> None:
        lookup(self)


class SpikeCitizen(HttpUser):
    """The announcement minute: lookups back to back, no think time (the spike profile)."""

    wait_time = constant(0)

    @task
    def self_lookup(self) -> None:
        lookup(self)
