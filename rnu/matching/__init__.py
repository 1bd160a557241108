"""Record matching: decide which PGH person a sector row is (exact document, then fuzzy)."""
