"""`hallq city publish catalog|calendar DIR`: check a folder with the hall's checker and publish it as the
city's next version (同源发布); halls fetch it at their next poll, or at once on the broker notice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

publish_app = typer.Typer(
    help="同源发布：向各大厅发布事项目录和节假日日历", no_args_is_help=True, rich_markup_mode=None
)

Folder = Annotated[
    Path, typer.Argument(help="含 *.yaml 的文件夹（与大厅 catalog/ 或 firmware_config/calendar/ 相同格式）")
]
By = Annotated[str, typer.Option("--by", help="发布人（记入版本记录）")]


def _publish(kind: str, folder: Path, by: str) -> None:
    from city import publishing
    from city.cli import _settings, open_database
    from hallcore.published import BundleError, read_dir

    settings = _settings()
    try:
        files = read_dir(kind, folder)
        with open_database(settings) as engine:
            made, created = publishing.publish(
                engine, kind, files, by, datetime.now(UTC), publishing.notifier_from_env(settings)
            )
    except BundleError as exc:
        typer.echo(str(exc), err=True)
        for problem in exc.problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(1) from None
    if created:
        typer.echo(f"已发布 {made.label}（{made.summary}），校验值 {made.etag[:16]}")
    else:
        typer.echo(f"内容与当前版本 {made.label} 相同，未生成新版本")


@publish_app.command("catalog")
def publish_catalog(folder: Folder, by: By = "cli") -> None:
    """Publish a catalog folder (the same YAML files as a hall's catalog/)."""
    _publish("catalog", folder, by)


@publish_app.command("calendar")
def publish_calendar(folder: Folder, by: By = "cli") -> None:
    """Publish the holiday calendar folder (one YAML file, as firmware_config/calendar/)."""
    _publish("calendar", folder, by)


@publish_app.command("token")
def hall_token(code: Annotated[str, typer.Argument(help="大厅编码（4 位）")]) -> None:
    """Issue a hall's API token (replacing its old one); write it to <hall secret>/city/api.token."""
    from city import hall_tokens
    from city.cli import _settings, open_database

    try:
        with open_database(_settings()) as engine:
            typer.echo(hall_tokens.issue(engine, code, datetime.now(UTC)))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
