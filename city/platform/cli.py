"""`hallq city platform export|upload|status`: 好差评 records of a month to the provincial platform."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from city.platform.upload import Uploader

platform_app = typer.Typer(help="好差评数据报送省级平台（GB/T 39046）", no_args_is_help=True, rich_markup_mode=None)

Month = Annotated[str | None, typer.Option("--month", help="月份 YYYY-MM（默认上个月）")]


def _platform() -> object:
    from city.platform.settings import PlatformSettings

    try:
        return PlatformSettings()
    except ValueError as exc:
        typer.echo(f"省级平台配置有误（HALLQ_PLATFORM_*）：{exc}", err=True)
        raise typer.Exit(2) from None


@platform_app.command("export")
def export(
    month: Month = None,
    out: Annotated[Path | None, typer.Option("--out", help="另存本月全部记录为 JSON 文件")] = None,
) -> None:
    """Batch the month's evaluations and rectifications not yet exported (running it again adds only new ones)."""
    from city.cli import _now, _settings, open_database
    from city.platform.export import export_file, export_month, last_month
    from city.platform.settings import PlatformSettings

    settings: PlatformSettings = _platform()  # type: ignore[assignment]
    wanted = month or last_month(date.today())
    with open_database(_settings()) as engine:
        try:
            made = export_month(engine, wanted, settings.sender, _now(), settings.batch_size)
        except ValueError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        records = export_file(engine, wanted) if out is not None else []
    typer.echo(f"{wanted}：新增 {made.records} 条记录，{len(made.batches)} 个批次 {' '.join(made.batches)}")
    if out is not None:
        out.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
        typer.echo(f"已写出 {len(records)} 条记录：{out}")


@platform_app.command("upload")
def upload(
    every: Annotated[
        float | None, typer.Option("--every", min=5, help="持续运行：每隔多少秒检查一次待报送批次")
    ] = None,
) -> None:
    """Send every due batch once (signed HTTPS); failures are retried at a later run, with backoff."""
    from city.cli import _settings, open_database
    from city.platform.settings import PlatformSettings
    from city.platform.upload import Uploader
    from hallcore.clock import SystemClock

    settings: PlatformSettings = _platform()  # type: ignore[assignment]
    with open_database(_settings()) as engine:
        try:
            uploader = Uploader(engine, settings, SystemClock())
        except (ValueError, OSError) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        _upload(uploader, every)


def _upload(uploader: Uploader, every: float | None) -> None:
    if every is not None:  # a long-running uploader: each batch retried at its own backoff
        import time

        while True:
            for a in uploader.run():
                typer.echo(f"{a.batch_id}\t第{a.attempt}次\t{a.status or '无法连接'}\t{a.state}")
            time.sleep(every)
    attempts = uploader.run()
    for a in attempts:
        typer.echo(f"{a.batch_id}\t第{a.attempt}次\t{a.status or '无法连接'}\t{a.state}")
    if not attempts:
        typer.echo("没有待报送的批次")
    if any(a.state != "sent" for a in attempts):
        raise typer.Exit(1)


@platform_app.command("status")
def status(month: Month = None) -> None:
    """Every batch with its state and attempts."""
    from city.cli import _settings, open_database
    from city.platform.upload import status as batch_status

    with open_database(_settings()) as engine:
        rows = batch_status(engine, month)
    for row in rows:
        typer.echo("\t".join(str(row[k]) for k in ("batch_id", "records", "state", "attempts", "last_status")))
