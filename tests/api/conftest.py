"""Fixtures shared by the API tests (agency clients: see tests/api/agency_support.py)."""

from tests.api.agency_support import agency_state, api  # noqa: F401
