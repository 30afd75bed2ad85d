"""`python -m scripts` = the `resilience` command."""

from scripts.cli import main

main()
