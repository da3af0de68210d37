"""`hallq`: each subcommand is imported only when it runs, so `hallq kiosk` on a kiosk board never loads the
server (FastAPI, SQLAlchemy) and `hallq serve` never loads Kivy."""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

# Where each subcommand lives: "module:attribute", a Typer app or a command function.
COMMANDS: dict[str, str] = {
    "run": "hallserver.cli.serve:run",
    "serve": "hallserver.cli.serve:serve",
    "db": "hallserver.cli.admin:db_app",
    "catalog": "hallserver.cli.admin:catalog_app",
    "hall": "hallserver.cli.admin:hall_app",
    "user": "hallserver.cli.admin:user_app",
    "keys": "hallserver.cli.admin:keys_app",
    "departments": "hallserver.cli.departments:departments_app",
    "bus": "hallserver.cli.admin:bus_app",
    "broker": "broker.cli:broker_app",
    "provision": "firmware_config.cli:provision_command",
    "kiosk": "kiosk.terminal.cli:kiosk_command",
    "display": "kiosk.display.cli:display_command",
    "evaluator": "kiosk.evaluator.cli:evaluator_command",
    "keybox-sim": "kiosk.evaluator.cli:keybox_simulator_command",
    "idcard-sim": "kiosk.idcard.cli:idcard_simulator_command",
    "cabinet": "kiosk.cabinet.cli:cabinet_command",
    "cabinet-sim": "kiosk.cabinet.cli:cabinet_simulator_command",
    "printer-agent": "kiosk.printer.cli:agent_command",
    "printer": "kiosk.printer.cli:printer_app",
    "city": "city.cli:app",
}


def load(name: str) -> Any:
    """The command of one subcommand, importing its module now."""
    module, attribute = COMMANDS[name].split(":")
    target: Any = getattr(importlib.import_module(module), attribute)
    command: Any
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        single = typer.Typer(rich_markup_mode=None)  # plain help: a device's `--help` answers at once
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """The `hallq` group: a subcommand's module is imported only when that subcommand runs (or asks for help)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return load(cmd_name) if cmd_name in COMMANDS else None


main = LazyGroup(name="hallq", help="hallq — 政务服务大厅排队、自助与评价系统", no_args_is_help=True)
