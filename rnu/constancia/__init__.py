"""Issued constancias: printable, verifiable records of a citizen's own lookup."""
