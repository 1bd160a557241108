"""A citizen's own coverage: programs, household CSE, eligibility traces and who read them."""
