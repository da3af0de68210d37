"""`python -m hallq …` is the `hallq` command (the demo starts its devices this way)."""

from hallq.cli import main

main(prog_name="hallq")
