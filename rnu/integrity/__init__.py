"""Integrity checks: filtración, duplicates and outside lists, written as explained flags."""
