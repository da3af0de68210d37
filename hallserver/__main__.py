"""`python -m hallserver …` is the `hallq` command (the demo starts its devices this way)."""

from hallserver.cli import app

app(prog_name="hallq")
