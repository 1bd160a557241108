"""Per-sector readers that turn a program's file into canonical rows and rejects."""
