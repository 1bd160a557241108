"""`python -m rnu` runs the CLI."""

from rnu.cli import main

main()
