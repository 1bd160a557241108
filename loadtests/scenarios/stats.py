"""Journalists and officials reading statistics by department, sometimes drilling down."""

from __future__ import annotations

import random

from locust import HttpUser, between, task

from .common import data, random_address


class StatsReader(HttpUser):
    weight = 5
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.address = random_address()

    @task
    def read(self) -> None:
        params: dict[str, str] = {"nivel": "departamento"}
        if random.random() < 0.7:
            params["programa"] = random.choice(data()["programs"])
        if random.random() < 0.3:
            params = {"nivel": "provincia", "padre": random.choice(data()["departments"])}
        with self.client.get(
            "/api/v1/estadisticas",
            params=params,
            headers={"X-Forwarded-For": self.address},
            name="[public] statistics",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif not response.json():
                response.failure("empty body")
            else:
                response.success()
