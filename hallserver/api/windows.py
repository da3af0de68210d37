"""Window routes: live state, the window staff's actions and the manager's controls."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import Session

from hallcore.errors import HallError, NotFound
from hallserver import printing, window_actions
from hallserver.api.deps import Auth, Hall, HallDep
from hallserver.api.schemas import (
    Body,
    FinishVisitIn,
    GroupsIn,
    ResumeTicketIn,
    RowId,
    StaffIn,
    StatusIn,
    TransferTicketIn,
    WithReasonIn,
)
from hallserver.events import Effects
from hallserver.models import Ticket, Visit, WindowStatus
from hallserver.presentation import paperwork
from hallserver.printing import PrintOutcome
from hallserver.services import desk, windows
from hallserver.services.windows import WindowView
from hallserver.views.tickets import TicketOut
from hallserver.window_actions import WindowDone

router = APIRouter(prefix="/windows", tags=["窗口 windows"])


class MyWindow(BaseModel):
    """A window the user works: its state, the user's AB role there, and its printer."""

    window: WindowView
    my_role: str | None  # A | B | None (a chief or manager acting on it)
    printer: str | None


class DeskOut(BaseModel):
    """The staff console's view of a window."""

    window: WindowView
    ticket: TicketOut | None
    desk: desk.Desk


class ReprintIn(Body):
    """Which visit's document to print again (default: the window's latest)."""

    visit_id: RowId | None = None


def _window(hall: Hall, s: Session, window_id: str) -> WindowView:
    return windows.view(s, hall.ctx, window_id)


def _run(hall: Hall, window_id: str, action: str, command: BaseModel | None = None) -> WindowDone:
    """Run a window action (the same as a window caller's on the bus), then publish what changed."""
    with hall.tx() as s:
        done, effects = window_actions.run(s, hall.ctx, action, window_id, command, hall.gateway, _base_url(hall))
    hall.notify(effects)
    return done


def _base_url(hall: Hall) -> str | None:
    return hall.gateway.base_url if hall.gateway is not None else None


def _changed(hall: Hall, view: WindowView) -> WindowView:
    hall.notify(Effects().window(view.id))
    return view


@router.get("", summary="所有窗口的实时状态")
def list_windows(hall: HallDep) -> list[WindowView]:
    """Every window."""
    with hall.tx() as s:
        return windows.all_views(s, hall.ctx)


@router.get("/mine", summary="我负责的窗口（含本人A角/B角）")
def my_windows(principal: Auth, hall: HallDep) -> list[MyWindow]:
    """The windows the user may act on, with their AB role there (from the hall profile)."""
    mine = []
    with hall.tx() as s:
        for w in hall.ctx.profile.windows:
            if not principal.may_act_on(w.id):
                continue
            role = "A" if w.staff.a == principal.username else "B" if w.staff.b == principal.username else None
            printer = printing.window_printer(hall.devices, w.id)
            mine.append(MyWindow(window=_window(hall, s, w.id), my_role=role, printer=printer))
    return mine


@router.get("/{window_id}", summary="单个窗口的实时状态")
def get_window(window_id: str, hall: HallDep) -> WindowView:
    """One window."""
    with hall.tx() as s:
        return _window(hall, s, window_id)


@router.get("/{window_id}/desk", summary="窗口工作台：当前号码、等候与办理时长、申请人（脱敏）、挂起号码")
def window_desk(window_id: str, principal: Auth, hall: HallDep) -> DeskOut:
    """Everything the staff console shows of the window; only for those who may act on it."""
    principal.require_window(window_id)
    with hall.tx() as s:
        view = _window(hall, s, window_id)
        state = desk.desk(s, hall.ctx, window_id)
        ticket = s.get(Ticket, state.ticket_id) if state.ticket_id else None
        return DeskOut(window=view, ticket=TicketOut.of(ticket, hall.ctx) if ticket else None, desk=state)


@router.post("/{window_id}/reprint", summary="重新打印受理凭证或一次性告知书")
def reprint(window_id: str, principal: Auth, hall: HallDep, body: ReprintIn | None = None) -> PrintOutcome:
    """Print a visit's document again on the window's printer (default: the latest with paperwork)."""
    principal.require_window(window_id)
    with hall.tx() as s:
        visit_id = body.visit_id if body and body.visit_id else None
        if visit_id is None:
            last = desk.last_paper(s, hall.ctx, window_id)
            visit_id = last.visit_id if last else None
        visit = s.get(Visit, visit_id) if visit_id else None
        if visit is None or visit.window_id != window_id:
            raise NotFound("本窗口今天还没有需要打印的受理凭证或告知书")
        paper = paperwork.for_visit(s, hall.ctx, visit, _base_url(hall))
        if paper is None:
            raise HallError("invalid", f"“{visit.outcome}”的办件没有需要打印的文书")
    effects = Effects()
    printed = printing.order(hall.gateway, window_id, paper, effects)
    hall.notify(effects)
    return printed


@router.post("/{window_id}/call-next", summary="叫号：按分配策略呼叫下一位")
def call_next(window_id: str, principal: Auth, hall: HallDep) -> WindowDone:
    """Call the next ticket; `ticket` is null when nobody is waiting for this window."""
    principal.require_window(window_id)
    return _run(hall, window_id, "call_next")


@router.post("/{window_id}/recall", summary="重呼当前号码")
def recall(window_id: str, principal: Auth, hall: HallDep) -> WindowDone:
    """Call the current ticket again."""
    principal.require_window(window_id)
    return _run(hall, window_id, "recall")


@router.post("/{window_id}/no-show", summary="过号")
def no_show(window_id: str, principal: Auth, hall: HallDep) -> WindowDone:
    """The called citizen did not come."""
    principal.require_window(window_id)
    return _run(hall, window_id, "no_show")


@router.post("/{window_id}/start", summary="开始办理")
def start(window_id: str, principal: Auth, hall: HallDep) -> WindowDone:
    """Service starts."""
    principal.require_window(window_id)
    return _run(hall, window_id, "start")


@router.post("/{window_id}/finish", summary="办结（当场办结/受理/补正/容缺受理/不予受理/咨询）")
def finish(window_id: str, principal: Auth, body: FinishVisitIn, hall: HallDep) -> WindowDone:
    """End the visit with its outcome; the receipt or one-time notice goes to the window's printer."""
    principal.require_window(window_id)
    return _run(hall, window_id, "finish", body)


@router.post("/{window_id}/transfer", summary="转办到其他队列或窗口（保留排队位置）")
def transfer(window_id: str, principal: Auth, body: TransferTicketIn, hall: HallDep) -> WindowDone:
    """Send the current ticket elsewhere."""
    principal.require_window(window_id)
    return _run(hall, window_id, "transfer", body)


@router.post("/{window_id}/suspend", summary="挂起当前业务")
def suspend(window_id: str, principal: Auth, hall: HallDep, body: WithReasonIn | None = None) -> WindowDone:
    """Put the current visit on hold."""
    principal.require_window(window_id)
    return _run(hall, window_id, "suspend", body)


@router.post("/{window_id}/resume-ticket", summary="恢复办理挂起的号码")
def resume_ticket(window_id: str, principal: Auth, body: ResumeTicketIn, hall: HallDep) -> WindowDone:
    """Take a suspended visit up again."""
    principal.require_window(window_id)
    return _run(hall, window_id, "resume_ticket", body)


@router.post("/{window_id}/pause", summary="暂停服务")
def pause(window_id: str, principal: Auth, hall: HallDep, body: WithReasonIn | None = None) -> WindowDone:
    """Stop taking calls for a while."""
    principal.require_window(window_id)
    return _run(hall, window_id, "pause", body)


@router.post("/{window_id}/resume", summary="恢复服务")
def resume(window_id: str, principal: Auth, hall: HallDep) -> WindowDone:
    """Take calls again."""
    principal.require_window(window_id)
    return _run(hall, window_id, "resume")


@router.put("/{window_id}/status", summary="管理员：开启/暂停/关闭窗口")
def set_status(window_id: str, principal: Auth, body: StatusIn, hall: HallDep) -> WindowView:
    """A manager sets the window's status."""
    principal.require("manager", "admin")
    return _status(hall, window_id, body.status, body.reason)


@router.put("/{window_id}/groups", summary="管理员：调整窗口办理的队列（实时生效）")
def set_groups(window_id: str, principal: Auth, body: GroupsIn, hall: HallDep) -> WindowView:
    """A manager reallocates the window; the next call obeys."""
    principal.require("manager", "admin")
    with hall.tx() as s:
        view = windows.set_groups(s, hall.ctx, window_id, body.groups)
    return _changed(hall, view)


@router.put("/{window_id}/staff", summary="管理员：切换A角/B角")
def set_staff(window_id: str, principal: Auth, body: StaffIn, hall: HallDep) -> WindowView:
    """Swap the A and B holder."""
    principal.require("manager", "admin")
    with hall.tx() as s:
        view = windows.set_staff_role(s, hall.ctx, window_id, body.role)
    return _changed(hall, view)


def _status(hall: Hall, window_id: str, status: WindowStatus, reason: str | None) -> WindowView:
    with hall.tx() as s:
        view = windows.set_status(s, hall.ctx, window_id, status, reason)
    return _changed(hall, view)
