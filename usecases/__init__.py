"""Use cases: each job of the registry in one place, called by every edge (CLI, API, web)."""
