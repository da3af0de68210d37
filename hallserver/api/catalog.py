"""Catalog routes: the whole catalog with an ETag, domains, search and single guides."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from hallcore.errors import NotFound
from hallserver.api.deps import HallDep

router = APIRouter(prefix="/catalog", tags=["办事指南 catalog"])


@router.get("", summary="完整事项目录（同源发布，支持 ETag/If-None-Match）")
def catalog(hall: HallDep, if_none_match: str | None = Header(default=None)) -> Response:
    """The full catalog; 304 when the client's copy is current."""
    cat = hall.ctx.catalog
    etag = f'"{cat.version}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return JSONResponse({"version": cat.version, **cat.public}, headers=headers)


@router.get("/domains", summary="领域列表")
def domains(hall: HallDep) -> list[dict[str, Any]]:
    """Domains with their item and bundle codes and the queue group serving them."""
    profile = hall.ctx.profile
    out = []
    for d in hall.ctx.catalog.public["domains"]:
        group = profile.group_for_domain(d["code"])
        out.append({**d, "group": group.code if group else None})
    return out


@router.get("/search", summary="按名称、拼音全拼、拼音首字母或领域搜索事项")
def search(
    hall: HallDep,
    q: str = Query(default="", max_length=40, description="如 居住证、juzhuzheng、jzz"),
    domain: str | None = Query(default=None, max_length=40),
    limit: int = Query(default=20, ge=1, le=100),
) -> list[dict[str, Any]]:
    """Ranked matches; an empty query lists the domain."""
    if domain and domain not in hall.ctx.catalog.domains:
        raise NotFound(f"没有名为“{domain}”的领域")
    return [h.__dict__ for h in hall.ctx.search.search(q, domain=domain, limit=limit)]


@router.get("/items/{code}", summary="单个事项的办事指南")
def item(code: str, hall: HallDep) -> dict[str, Any]:
    """One item or 一件事 bundle with its full guide and the group that serves it."""
    cat = hall.ctx.catalog
    entry = cat.items.get(code) or cat.bundles.get(code)
    if entry is None:
        raise NotFound(f"事项编码 {code} 不在事项目录中", code=code)
    group = hall.ctx.group_for_entry(code)
    return {
        **entry.model_dump(mode="json"),
        "kind": "item" if code in cat.items else "bundle",
        "domain": cat.domain_of[code],
        "group": group.code,
        "group_name": group.name,
    }
