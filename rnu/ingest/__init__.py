"""Ingestion: stream canonical rows into the registry, one atomic batch per file."""
