"""Citizens reporting a suspected filtración from a roll entry, then following it up."""

from __future__ import annotations

import random

from locust import HttpUser, between, task

from .common import data, random_address

MOTIVOS = ("fallecido", "no_vive_en_el_distrito", "no_es_pobre", "pensionista", "otro")


class Reporter(HttpUser):
    weight = 3
    wait_time = between(3, 8)

    @task
    def report(self) -> None:
        # Each report comes from another citizen: one visitor filing a report every few
        # seconds would (rightly) meet the per-client limit of 10 an hour, a 429 by design.
        program, ubigeo, period = random.choice(data()["rolls"])
        headers = {"X-Forwarded-For": random_address()}
        page = self.client.get(
            "/api/v1/padrones",
            params={"programa": program, "ubigeo": ubigeo, "periodo": period},
            headers=headers,
            name="[public] roll page (reporter)",
        )
        entries = page.json().get("entradas", []) if page.status_code == 200 else []
        payload: dict[str, str] = {
            "motivo": random.choice(MOTIVOS),
            "descripcion": "Prueba de carga.",
        }
        entry_id = entries and next(
            (
                str(v)
                for k, v in random.choice(entries).items()
                if k in {"entry_id", "id", "entrada"}
            ),
            None,
        )
        # A roll may list nobody (child programs are only counted): the report then names
        # the program and district, as the API requires, instead of an entry.
        payload.update(programa=program, ubigeo=ubigeo)
        if entry_id:
            payload["entrada"] = entry_id
        with self.client.post(
            "/api/v1/reportes",
            json=payload,
            headers=headers,
            name="[public] report",
            catch_response=True,
        ) as response:
            if response.status_code != 201 or not response.json().get("codigo"):
                response.failure(f"status {response.status_code}")
                return
            response.success()
            code = response.json()["codigo"]
        with self.client.get(
            f"/api/v1/reportes/{code}",
            headers=headers,
            name="[public] report status",
            catch_response=True,
        ) as response:
            if response.status_code == 200 and response.json():
                response.success()
            else:
                response.failure(f"status {response.status_code}")
