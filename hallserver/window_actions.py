"""The one place a window action runs: the staff console (REST) and a window caller (bus) both come here, so
an action does the same on every channel — including the 受理凭证 printed when a visit is finished."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from hallcore.commands import WindowCommand
from hallcore.errors import HallError
from hallserver import printing
from hallserver.events import Effects
from hallserver.models import Outcome, Ticket, WindowStatus
from hallserver.presentation import paperwork
from hallserver.printing import Printers, PrintOutcome
from hallserver.services import visits, windows
from hallserver.services.context import HallContext
from hallserver.services.visits import FinishDetails
from hallserver.services.windows import WindowView
from hallserver.views.tickets import TicketOut

Run = Callable[[Session, HallContext, str, Any], Ticket | None]


def _finish(s: Session, ctx: HallContext, w: str, cmd: Any) -> Ticket:
    received = tuple(cmd.received) if cmd.received is not None else None
    details = FinishDetails(tuple(cmd.materials), cmd.deadline, cmd.reason, cmd.delivery, cmd.item_code, received)
    return windows.finish(s, ctx, w, _outcome(cmd.outcome), cmd.note, details)


def _resume_ticket(s: Session, ctx: HallContext, w: str, cmd: Any) -> Ticket:
    if cmd.ticket_id is None:
        raise HallError("invalid", "请指定要恢复办理的号码（ticket_id）")
    return windows.resume(s, ctx, w, cmd.ticket_id)


def _status(status: WindowStatus) -> Run:
    def run(s: Session, ctx: HallContext, w: str, cmd: Any) -> None:
        windows.set_status(s, ctx, w, status, getattr(cmd, "reason", None) if status is WindowStatus.paused else None)

    return run


# Action name (as on the bus, `window.` left off) → how it runs on the services.
ACTIONS: dict[str, Run] = {
    "call_next": lambda s, ctx, w, _cmd: windows.call_next(s, ctx, w),
    "recall": lambda s, ctx, w, _cmd: windows.recall(s, ctx, w),
    "no_show": lambda s, ctx, w, _cmd: windows.no_show(s, ctx, w),
    "start": lambda s, ctx, w, _cmd: windows.start(s, ctx, w),
    "finish": _finish,
    "transfer": lambda s, ctx, w, cmd: windows.transfer(s, ctx, w, cmd.to_group, cmd.to_window),
    "suspend": lambda s, ctx, w, cmd: windows.suspend(s, ctx, w, cmd.reason),
    "resume_ticket": _resume_ticket,
    "pause": _status(WindowStatus.paused),
    "resume": _status(WindowStatus.open),
}


class WindowDone(BaseModel):
    """A window action's typed reply, on REST and on the bus: the window's new state, the ticket acted on,
    what a call says, and what went to the window's printer when a finished visit needs paper."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    window: WindowView
    ticket: TicketOut | None
    message: str | None = None
    printed: PrintOutcome | None = None


def run(
    session: Session,
    ctx: HallContext,
    action: str,
    window_id: str,
    command: BaseModel | None,
    printers: Printers | None,
    base_url: str | None,
) -> tuple[WindowDone, Effects]:
    """Run one window action in the caller's transaction; returns the reply and what changed."""
    execute = ACTIONS.get(action)
    if execute is None:
        raise HallError("invalid", f"未知的窗口操作 {action}")
    ticket = execute(session, ctx, window_id, command or WindowCommand())
    session.flush()
    effects = Effects().window(window_id)
    view = windows.view(session, ctx, window_id)
    done = WindowDone(window=view, ticket=TicketOut.of(ticket, ctx) if ticket else None)
    if action in ("call_next", "recall") and ticket is not None:
        effects.calls.append((ticket.id, window_id))  # type: ignore[arg-type]
    if action == "call_next":
        done.message = f"请{ticket.number}号到{view.name}办理" if ticket else "当前没有等候的群众"
    if action == "transfer" and getattr(command, "to_window", None):
        effects.window(command.to_window)  # type: ignore[union-attr]
    if action == "finish" and ticket is not None and ticket.id is not None:
        visit = visits.last_visit(session, ticket.id)
        if visit is not None and visit.id is not None:
            effects.prompts.append(visit.id)  # the window's evaluator asks for a rating
            paper = paperwork.for_visit(session, ctx, visit, base_url)
            if paper is not None:  # 受理凭证 / 一次性告知书 on the window's printer
                done.printed = printing.order(printers, window_id, paper, effects)
    return done, effects


def _outcome(value: str | None) -> Outcome:
    try:
        return Outcome(value or "")
    except ValueError:
        choices = "、".join(o.value for o in Outcome if o is not Outcome.transferred)
        raise HallError("invalid", f"办结结果须为：{choices}") from None
