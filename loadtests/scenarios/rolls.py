"""People browsing their district's masked roll: a page, sometimes the next, sometimes a search."""

from __future__ import annotations

import random

from locust import HttpUser, between, task

from .common import data, random_address


class RollBrowser(HttpUser):
    weight = 20
    wait_time = between(1, 5)

    def on_start(self) -> None:
        self.address = random_address()

    def _page(self, params: dict[str, object], name: str) -> dict[str, object] | None:
        with self.client.get(
            "/api/v1/padrones",
            params=params,
            headers={"X-Forwarded-For": self.address},
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return None
            body: dict[str, object] = response.json()
            if not isinstance(body.get("entradas"), list) or "paginas" not in body:
                response.failure("body lacks entradas/paginas")
                return None
            response.success()
            return body

    @task
    def browse(self) -> None:
        program, ubigeo, period = random.choice(data()["rolls"])
        params: dict[str, object] = {"programa": program, "ubigeo": ubigeo, "periodo": period}
        body = self._page(params, "[public] roll page")
        if body and int(str(body.get("paginas", 1))) > 1 and random.random() < 0.3:
            self._page({**params, "page": 2}, "[public] roll next page")
        if random.random() < 0.2:
            surname = random.choice(data()["surnames"])
            self._page({**params, "q": surname}, "[public] roll search")
