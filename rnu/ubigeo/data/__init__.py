"""Packaged ubigeo lists (CSV); see SOURCE.md for where they come from."""
