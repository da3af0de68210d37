"""`python -m kiosk.terminal --device kiosk-01`: the kiosk without the rest of the `hallq` command (whose
import of every subcommand — server, database, web — costs a kiosk board ~90 MB and ~0.35 s at start)."""

import typer

from kiosk.terminal.cli import kiosk_command

typer.run(kiosk_command)
