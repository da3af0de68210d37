"""`hallq departments`: register department systems (审批系统) and manage their webhook secrets and tokens
in the hall's secret store. Secrets and tokens are printed once, here, and stored nowhere else in clear."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from hallcore.errors import HallError
from hallserver.services import departments
from hallserver.settings import Settings

departments_app = typer.Typer(
    help="Department systems: webhook secrets and tokens (部门审批系统)", no_args_is_help=True
)


def _secret_dir() -> Path:
    return Settings().secret_dir


def _run(action: Callable[..., str | None], *args: str) -> str | None:
    try:
        return action(_secret_dir(), *args)
    except HallError as exc:
        typer.secho(exc.message, fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None


@departments_app.command("add")
def add(code: str, name: str) -> None:
    """Register a department system (CODE e.g. gongan, NAME the department, e.g. 市公安局); prints its secret."""
    secret = _run(departments.register, code, name)
    typer.echo(f"webhook secret of {code} (shown once, give it to the department): {secret}")


@departments_app.command("rotate")
def rotate(code: str) -> None:
    """A new webhook secret; the previous one stays valid until `retire`."""
    secret = _run(departments.rotate, code)
    typer.echo(f"new webhook secret of {code} (the old one works until `hallq departments retire {code}`): {secret}")


@departments_app.command("retire")
def retire(code: str) -> None:
    """End a rotation: only the newest secret stays valid."""
    _run(departments.retire, code)
    typer.echo(f"{code}: only the newest secret is valid now")


@departments_app.command("token")
def token(code: str) -> None:
    """A bearer token for a department system that cannot sign (shown once)."""
    value = _run(departments.issue_token, code)
    typer.echo(f"token of {code} (shown once): {value}")


@departments_app.command("revoke-tokens")
def revoke_tokens(code: str) -> None:
    """Revoke every token of a department."""
    _run(departments.revoke_tokens, code)
    typer.echo(f"{code}: every token revoked")


@departments_app.command("list")
def list_departments() -> None:
    """Registered departments: code, name, valid secrets and tokens (counts only)."""
    for d in departments.load(_secret_dir()).values():
        typer.echo(f"{d.code}\t{d.name}\t{len(d.secrets)} secret(s)\t{len(d.token_hashes)} token(s)")
