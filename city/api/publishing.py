"""同源发布 over HTTP: halls download the current catalog or calendar (ETag → 304 when unchanged); city
admins publish a new version. Halls prove themselves with their API token, admins with their login."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from city import publishing
from city.api.hall_auth import CityAdmin, HallOrUser, city_engine, error
from hallcore.published import KIND_LABELS, BundleError

router = APIRouter(prefix="/publishing", tags=["同源发布"])
Kind = Annotated[str, Path(pattern="^(catalog|calendar)$", description="catalog（事项目录）或 calendar（节假日日历）")]


class PublishIn(BaseModel):
    """A new version: file name → YAML text, as in a hall's catalog/ folder or firmware_config/calendar/."""

    model_config = ConfigDict(extra="forbid")

    files: dict[str, Annotated[str, Field(max_length=2 * 1024 * 1024)]] = Field(max_length=200)


def _quoted(tag: str) -> str:
    return f'"{tag}"'


def _matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or _quoted(tag) in wanted


@router.get("/{kind}/current", summary="当前发布版本（含文件；ETag 未变时 304）")
def current(
    kind: Kind,
    request: Request,
    caller: HallOrUser,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The current bundle; a hall polls it with If-None-Match and gets 304 until the city publishes again."""
    found = publishing.current(city_engine(request), kind)
    if found is None:
        return error(404, "not_found", f"市级尚未发布{KIND_LABELS[kind]}")
    headers = {"ETag": _quoted(found.etag), "Cache-Control": "no-cache"}
    if _matches(if_none_match, found.etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(found.bundle(), headers=headers)


@router.get("/{kind}/versions", summary="发布历史")
def versions(kind: Kind, request: Request, caller: HallOrUser) -> list[dict[str, Any]]:
    """The newest versions, without their files."""
    return publishing.history(city_engine(request), kind)


@router.get("/{kind}/versions/{version}", summary="某一版本（含文件）")
def version(
    kind: Kind, request: Request, caller: HallOrUser, version: Annotated[int, Path(ge=1, lt=2**31)]
) -> Response:
    """One version's bundle."""
    found = publishing.get(city_engine(request), kind, version)
    if found is None:
        return error(404, "not_found", f"{KIND_LABELS[kind]}没有版本 v{version}")
    return JSONResponse(found.bundle(), headers={"ETag": _quoted(found.etag)})


@router.post("/{kind}", summary="发布新版本（市级管理员）", status_code=201)
def publish(kind: Kind, request: Request, admin: CityAdmin, body: Annotated[PublishIn, Body()]) -> Response:
    """Check with the hall's checker and store; 200 (unchanged) when these files are already current."""
    notify = getattr(request.app.state, "publish_notify", None)
    clock = getattr(request.app.state, "clock", None)
    now = clock.now() if clock is not None else datetime.now(UTC)
    try:
        made, created = publishing.publish(city_engine(request), kind, body.files, admin.name, now, notify)
    except BundleError as exc:
        return error(422, "invalid", str(exc), {"problems": exc.problems})
    return JSONResponse({**made.meta(), "created": created}, status_code=201 if created else 200)


@router.get("/{kind}/halls", summary="各大厅正在使用的版本")
def halls(kind: Kind, request: Request, caller: HallOrUser) -> list[dict[str, Any]]:
    """What every registered hall last reported serving (its device-health record), beside the current version."""
    from sqlalchemy import text

    current_label = found.label if (found := publishing.current(city_engine(request), kind)) else None
    column = "catalog_version" if kind == "catalog" else "calendar_version"
    query = text(
        f"SELECT h.code, h.name, l.{column} AS serving, l.health_at FROM city_hall h "  # column: one of two fixed names
        "LEFT JOIN hall_live l ON l.hall = h.code ORDER BY h.code"
    )
    with city_engine(request).connect() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "hall": r.code,
            "name": r.name,
            "serving": r.serving,
            "reported_at": r.health_at.isoformat() if r.health_at else None,
            "up_to_date": current_label is not None and r.serving == current_label,
        }
        for r in rows
    ]
