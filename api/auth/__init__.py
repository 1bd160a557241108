"""Authentication at the edge: staff and volunteer sessions (agency keys live beside them)."""
