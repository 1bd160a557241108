"""Staff and volunteer accounts, sessions, and the analysts' field-verification workflow."""
