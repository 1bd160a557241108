"""`python -m cli` runs the `rnu` command line."""

from cli.main import main

main()
