"""The analysts' dashboard: users, flags, filtración and expiring CSE by program and department."""
