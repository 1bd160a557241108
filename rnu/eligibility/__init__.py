"""Eligibility rules of the social programs, kept as versioned data."""
