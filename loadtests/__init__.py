"""Locust load tests: HTTP only, they import nothing of the project."""
