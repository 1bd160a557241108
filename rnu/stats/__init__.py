"""Published counts: users per program and area, integrity flags per area (before suppression)."""
