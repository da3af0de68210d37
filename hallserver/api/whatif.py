"""The managers' what-if and overflow-rule editor: predict the rest of today with a proposed change, and
edit the overflow rules of hall.yaml. Hall managers and admins only; translation of transport, no meaning."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool

from firmware_config.hall import OverflowRule
from hallcore.errors import Conflict
from hallserver.api.deps import Auth, HallDep
from hallserver.models import WindowStatus
from hallserver.services import overflow_rules, windows
from hallserver.simulation import whatif
from hallserver.simulation.today import read_today
from hallserver.simulation.whatif import Proposal

router = APIRouter(tags=["推演 what-if"])
MANAGERS = ("manager", "admin")


def _clock(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def _rules(hall: Any) -> list[dict[str, Any]]:
    return [
        {"index": i, **r.model_dump(mode="json"), "text": overflow_rules.describe(hall.ctx, r)}
        for i, r in enumerate(hall.ctx.profile.allocation.overflow)
    ]


def _hall_file(request: Request) -> Path:
    path: Path = request.app.state.hall_file
    return path


@router.get("/whatif", summary="推演：当前窗口配置、队列与分流规则")
def setup(principal: Auth, hall: HallDep) -> dict[str, Any]:
    """What the what-if page starts from: the open windows (with their live groups), groups, the basis of the
    prediction and the overflow rules. Out of hours `closed` says why nothing can be predicted; the rest is
    there all the same (overflow rules are edited after hours too)."""
    principal.require(*MANAGERS)
    ctx = hall.ctx
    out: dict[str, Any] = {
        "closed": None,
        "groups": [{"code": g.code, "name": g.name} for g in ctx.profile.groups],
        "hall_windows": [{"id": w.id, "name": w.name} for w in ctx.profile.windows],
        "overflow": _rules(hall),
    }
    with hall.tx() as s:
        try:
            today, source = read_today(s, ctx)
        except Conflict as exc:
            if exc.code != "closed":
                raise
            views = [v for v in windows.all_views(s, ctx) if v.status == WindowStatus.open]
            return out | {
                "closed": exc.message,
                "windows": [{"id": v.id, "name": v.name, "kind": v.kind, "groups": v.groups} for v in views],
            }
    return out | {
        "now": _clock(today.now),
        "close": _clock(today.close),
        "windows": [{"id": w.id, "name": w.name, "kind": w.kind, "groups": list(w.groups)} for w in today.windows],
        "waiting_now": len(today.waiting),
        "expected_arrivals": round(today.expected_arrivals),
        "source": asdict(source),
    }


@router.post("/whatif", summary="推演：预测今日剩余时段的等候、超时与窗口利用率（当前配置与调整方案对比）")
async def run(principal: Auth, hall: HallDep, body: Proposal) -> dict[str, Any]:
    """Baseline and proposal on the same seeded arrivals, through the real allocation policy."""
    principal.require(*MANAGERS)

    def work() -> dict[str, Any]:
        with hall.tx() as s:  # read, then simulate outside the transaction
            today, source = read_today(s, hall.ctx)
        result = whatif.run(today, body)
        out = asdict(result)
        out["basis"] |= {
            "now": _clock(today.now),
            "close": _clock(today.close),
            "cap_minutes": today.allocation.starvation_minutes,
        }
        out["source"] = asdict(source)
        return out

    return await run_in_threadpool(work)


@router.get("/overflow-rules", summary="分流规则列表")
def list_rules(principal: Auth, hall: HallDep) -> list[dict[str, Any]]:
    """The overflow rules in force."""
    principal.require(*MANAGERS)
    return _rules(hall)


@router.post("/overflow-rules", summary="新增分流规则（写入大厅配置并立即生效，留痕）", status_code=201)
def add_rule(principal: Auth, hall: HallDep, body: OverflowRule, request: Request) -> list[dict[str, Any]]:
    """Add a rule: validated by the hall profile, written to hall.yaml, in force at the next call, audited."""
    principal.require(*MANAGERS)
    overflow_rules.add(hall.tx, hall.ctx, _hall_file(request), body, principal.username)
    return _rules(hall)


@router.delete("/overflow-rules/{index}", summary="删除分流规则（写入大厅配置并立即生效，留痕）")
def remove_rule(
    principal: Auth, hall: HallDep, index: Annotated[int, PathParam(ge=0, le=999)], request: Request
) -> list[dict[str, Any]]:
    """Remove the rule at this position of the list."""
    principal.require(*MANAGERS)
    overflow_rules.remove(hall.tx, hall.ctx, _hall_file(request), index, principal.username)
    return _rules(hall)
