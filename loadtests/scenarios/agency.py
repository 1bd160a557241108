"""An agency's batch check over GraphQL: up to 100 documents per request, with a purpose."""

from __future__ import annotations

import random

from locust import HttpUser, between, task

from .common import data

QUERY = """query Check($documents: [String!]!) {
  persons(documents: $documents) { %s }
}"""


class AgencyBatch(HttpUser):
    weight = 2
    wait_time = between(1, 3)

    @task
    def batch_check(self) -> None:
        docs = [
            dni for dni, _ in random.sample(data()["lookups"], k=min(100, len(data()["lookups"])))
        ]
        with self.client.post(
            "/graphql",
            json={
                "query": QUERY % data().get("graphql_selection", "__typename"),
                "variables": {"documents": docs},
            },
            headers={
                "Authorization": f"Bearer {data()['agency_key']}",
                "X-Purpose": "verificacion",
            },
            name="[agency] graphql batch",
            catch_response=True,
        ) as response:
            body = response.json() if response.status_code == 200 else {}
            if response.status_code != 200 or body.get("errors") or not body.get("data"):
                response.failure(f"status {response.status_code}: {str(body.get('errors'))[:120]}")
            else:
                response.success()
