"""Bus request handlers: each runs one action through the services and says what changed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from broker.messages import (
    AppointmentCheckin,
    AssistRequest,
    EvaluationSubmit,
    GuidePrint,
    ProgressQuery,
    Request,
    TicketIssue,
    VisitCheck,
    VisitRecent,
    WindowAction,
)
from firmware_config.devices import ALLOWED_ACTIONS, DeviceProfile, DeviceSet, bound_window
from hallcore import links
from hallcore.errors import HallError
from hallserver import window_actions
from hallserver.events import Effects, PrintOrder
from hallserver.gateway.booking import booking_handlers
from hallserver.gateway.complaints import complaint_handlers
from hallserver.gateway.contacts import contact_handlers
from hallserver.gateway.green import green_handlers
from hallserver.gateway.pickup import pickup_handlers
from hallserver.models import Visit
from hallserver.services import appointments, case_progress, evaluations, people, rating_proof, tickets
from hallserver.services.assist import AssistDesk
from hallserver.services.context import HallContext
from hallserver.services.green_requests import GreenDesk
from hallserver.views.appointments import CheckinOut
from hallserver.views.tickets import lookup_url

Result = tuple[dict[str, Any], Effects]
AFTER_HOURS_UNSTAFFED = "现在是非工作时间，暂无值班人员在岗，请拨打12345政务服务便民热线"


@dataclass
class Handlers:
    """The server side of every request action, for one hall."""

    ctx: HallContext
    devices: DeviceSet
    base_url: str
    printer_problem: Callable[[str], str | None] = lambda _printer: None  # why it cannot print now, if so
    assist: AssistDesk = field(default_factory=AssistDesk)  # 呼叫工作人员 requests (v1.2)
    green: GreenDesk = field(default_factory=GreenDesk)  # 绿色通道 awaiting staff: hallserver/gateway/green.py

    def authorize(self, device: DeviceProfile, action: str, request: Request) -> None:
        """Refuse actions the device's kind, or its bound window, does not allow (`forbidden`)."""
        if action not in ALLOWED_ACTIONS[device.type]:
            raise HallError("forbidden", f"设备 {device.id} 无权执行 {action}")
        if isinstance(request, WindowAction) and bound_window(device) != request.window_id:
            raise HallError("forbidden", f"设备 {device.id} 只能操作本窗口（{bound_window(device)}）")

    def handle(self, session: Session, device: DeviceProfile, action: str, request: Request) -> Result:
        """Run the action; HallError carries refusals."""
        handler = self._table().get(action)
        if handler is None:
            raise HallError("invalid", f"未知的请求 {action}")
        return handler(session, device, request)

    def _table(self) -> dict[str, Callable[[Session, DeviceProfile, Any], Result]]:
        window = {f"window.{name}": partial(self._window, name) for name in window_actions.ACTIONS}
        return {
            "ticket.issue": self._issue,
            "appointment.checkin": self._checkin,
            "progress.query": self._progress,
            "evaluation.submit": self._evaluate,
            "guide.print": self._guide_print,
            "visit.recent": self._visit_recent,
            "visit.check": self._visit_check,
            "assist.request": self._assist,
            **contact_handlers(self.ctx),  # contact.consent (notifications): hallserver/gateway/contacts.py
            **booking_handlers(self),  # appointment.slots, appointment.book (v2.1): hallserver/gateway/booking.py
            **complaint_handlers(self.ctx),  # complaint.submit: hallserver/gateway/complaints.py
            **pickup_handlers(self),  # pickup.open, pickup.taken (pickup cabinets): hallserver/gateway/pickup.py
            **green_handlers(self),  # green.request (绿色通道 staff confirmation): hallserver/gateway/green.py
            **window,
        }

    # --- tickets ---

    def _issue(self, session: Session, device: DeviceProfile, req: TicketIssue) -> Result:
        command = req.model_copy(update={"channel": "kiosk" if device.type == "kiosk" else "desk"})
        issued = tickets.issue(session, self.ctx, command)  # plain SQL: the hot path builds no ORM object
        effects = Effects(queue=True)
        t, ctx = issued.ticket, self.ctx
        reply = {
            "ticket": t.number,
            "ticket_id": t.id,
            "group": issued.group.code,
            "group_name": issued.group.name,
            "item_name": ctx.entry_name(t.item_code) if t.item_code else None,
            "waiting_ahead": issued.waiting_ahead,
            "estimated_wait_min": issued.estimated_wait_min,
            "issued_at": t.issued_at.astimezone(ctx.calendar.zone).isoformat(),
            "masked_name": t.masked_name,
            "lookup_url": links.absolute(self.base_url, links.ticket_path(t.public_token)),
        }
        reply["print_job_id"], reply["print_error"] = self._print_ticket(device, issued, effects)
        return reply, effects

    def _print_ticket(
        self, device: DeviceProfile, issued: tickets.IssuedTicket | tickets.Issued, effects: Effects
    ) -> tuple[str | None, str | None]:
        """Queue the ticket slip on the device's printer, unless the printer is known unable to print:
        then say so at once, so the kiosk shows the ticket on screen instead of waiting for paper."""
        printer = self._printer_for(device)
        if printer is None:
            return None, None
        problem = self.printer_problem(printer)
        if problem is not None:
            return None, problem
        job_id = str(uuid.uuid4())
        document = self._ticket_document(issued)
        effects.prints.append(PrintOrder(printer, job_id, "ticket", document, origin=device.id))
        return job_id, None

    def _printer_for(self, device: DeviceProfile) -> str | None:
        if device.type == "kiosk":
            return device.printer
        window = bound_window(device)
        return next(
            (d.id for d in self.devices.devices if d.type == "printer" and bound_window(d) == window and window),
            None,
        )

    def _ticket_document(self, issued: tickets.IssuedTicket | tickets.Issued) -> dict[str, Any]:
        ctx, t = self.ctx, issued.ticket
        return {
            "hall_name": ctx.profile.hall.name,
            "ticket": t.number,
            "group_name": issued.group.name,
            "item_name": ctx.entry_name(t.item_code) if t.item_code else None,
            "priority": t.priority,
            "waiting_ahead": issued.waiting_ahead,
            "estimated_wait_min": issued.estimated_wait_min,
            "issued_at": t.issued_at.astimezone(ctx.calendar.zone).isoformat(),
            "masked_name": t.masked_name,
            "qr": links.absolute(self.base_url, links.ticket_path(t.public_token)),
            "notice": f"请留意叫号；过号可在{ctx.profile.tickets.no_show_rejoin_minutes}分钟内重新排队",
        }

    def _checkin(self, session: Session, device: DeviceProfile, req: AppointmentCheckin) -> Result:
        ident = req.identity
        done = appointments.check_in(
            session,
            self.ctx,
            code=req.booking_code,
            id_number=ident.id_number if ident else None,
            name=ident.name if ident else None,
            method=ident.method if ident else "none",
        )
        effects = Effects(queue=True)
        data = CheckinOut.of(done, self.ctx).model_dump(mode="json")
        data["lookup_url"] = lookup_url(self.base_url, done.issued.ticket)
        data["print_job_id"], data["print_error"] = self._print_ticket(device, done.issued, effects)
        return data, effects

    def _progress(self, session: Session, device: DeviceProfile, req: ProgressQuery) -> Result:
        cases = case_progress.progress(
            session, self.ctx, serial_no=req.serial_no, id_number=req.identity.id_number if req.identity else None
        )
        rows = [
            {
                "serial_no": p.serial_no,
                "item_name": p.item_name,
                "status": p.status,
                "promised_date": p.promised_date.isoformat(),
                "delivery": p.delivery,
                "overdue": p.overdue,
                "history": p.history,
                "reason": p.reason,
            }
            for p in cases
        ]
        return {"cases": rows}, Effects()

    def _evaluate(self, session: Session, device: DeviceProfile, req: EvaluationSubmit) -> Result:
        proof = _proof(req.identity, req.code)
        if device.type == "kiosk" and proof is None:  # a kiosk rating always needs its proof
            raise HallError("forbidden", rating_proof.REFUSED)
        window = bound_window(device)
        if device.type == "evaluator":  # an evaluator rates only the visits of its own window
            visit = evaluations.find_visit(session, self.ctx, req.visit_id, req.ticket)
            if visit.window_id != window:
                raise HallError("forbidden", f"设备 {device.id} 只能评价本窗口（{window}）的办事")
        evaluation, case = evaluations.submit(
            session,
            self.ctx,
            req.level,
            req.channel,
            req.visit_id,
            req.ticket,
            req.indicators,
            req.comment,
            proof=proof,
        )
        effects = Effects()
        if device.type == "evaluator" and window:
            effects.answered.append((window, evaluation.visit_id))
        data = {
            "evaluation_id": evaluation.id,
            "is_bad": evaluation.is_bad,
            "rectification_id": case.id if case else None,
        }
        return data, effects

    # --- kiosk self-service (contract v1.2) ---

    def _guide_print(self, session: Session, device: DeviceProfile, req: GuidePrint) -> Result:
        """Print the item's one-time material checklist on the kiosk's printer."""
        printer = self._printer_for(device)
        if printer is None:
            raise HallError("unavailable", "本机没有打印机，请扫码在手机上查看办事指南")
        document = self._guide_document(req.item_code)
        problem = self.printer_problem(printer)
        if problem is not None:
            advice = problem.replace("凭屏幕上的号码等候叫号", "扫描屏幕上的二维码查看办事指南")
            return {"print_job_id": None, "print_error": advice}, Effects()
        job_id = str(uuid.uuid4())
        effects = Effects()
        effects.prints.append(PrintOrder(printer, job_id, "guide", document, origin=device.id))
        return {"print_job_id": job_id, "print_error": None, "item_name": document["item_name"]}, effects

    def _guide_document(self, code: str) -> dict[str, Any]:
        cat = self.ctx.catalog
        entry = cat.items.get(code) or cat.bundles.get(code)
        if entry is None:
            raise HallError("unknown_item", f"事项编码 {code} 不在本大厅的事项目录中")
        materials = [
            {
                "name": m.name,
                "kind": m.kind.value,
                "copies": m.copies,
                "note": "；".join(x for x in (m.condition, "可容缺" if m.rongque else None) if x) or None,
            }
            for m in entry.materials
            if not m.data_shared
        ]
        where = entry.location
        item = cat.items.get(code)
        bundle = cat.bundles.get(code)
        if item is not None:
            limit = _time_limit(item.time_limit.statutory_days, item.time_limit.promised_days)
        else:
            limit = _time_limit(0, bundle.promised_days if bundle else 0)
        return {
            "hall_name": self.ctx.profile.hall.name,
            "item_name": entry.name,
            "conditions": list(item.conditions) if item else [],
            "materials": materials,
            "time_limit": limit,
            "fee": item.fee.standard if item else None,
            "location": f"{where.floor}{where.zone}{where.windows}",
            "phone": entry.phone,
            "qr": links.absolute(self.base_url, links.guide_path(code)),
        }

    def _visit_recent(self, session: Session, device: DeviceProfile, req: VisitRecent) -> Result:
        """A person's visits of the last days, newest first, with whether each is rated yet."""
        person = people.find(session, self.ctx, req.identity.id_number)
        if person is None:
            return {"visits": []}, Effects()
        since = self.ctx.today() - timedelta(days=req.days)
        rows = session.exec(
            select(Visit)
            .where(Visit.person_id == person.id, Visit.service_date >= since)
            .order_by(col(Visit.ended_at).desc())
            .limit(10)
        ).all()
        names = {w.id: w.name for w in self.ctx.profile.windows}
        out = [
            {
                "visit_id": v.id,
                "ticket": v.ticket_number,
                "item_name": self.ctx.entry_name(v.item_code) if v.item_code else None,
                "window_name": names.get(v.window_id, v.window_id),
                "ended_at": v.ended_at.astimezone(self.ctx.calendar.zone).isoformat(),
                "rated": v.rating_gb is not None,
            }
            for v in rows
        ]
        return {"visits": out}, Effects()

    def _visit_check(self, session: Session, device: DeviceProfile, req: VisitCheck) -> Result:
        """Prove the rater had the visit, then name its window, masked staff name and item."""
        visit = evaluations.find_visit(session, self.ctx, req.visit_id, req.ticket)
        rating_proof.check(session, self.ctx, visit, _proof(req.identity, req.code))
        found = rating_proof.target(self.ctx, visit)
        return {**asdict(found), "ended_at": found.ended_at.isoformat()}, Effects()

    def _assist(self, session: Session, device: DeviceProfile, req: AssistRequest) -> Result:
        """Record a 呼叫工作人员 request for the staff on duty (no personal data). After hours only a floor console
        someone has open is alerted; otherwise nothing is recorded and the kiosk gives the hotline."""
        if not self.ctx.calendar.is_open(self.ctx.now()) and not self.assist.staffed():
            return {"assist_id": None, "staffed": False, "message": AFTER_HOURS_UNSTAFFED}, Effects()
        call = self.assist.record(
            device.id, device.name, device.location, self.ctx.now(), reason=req.reason, screen=req.screen,
            elderly=req.elderly,
        )  # fmt: skip
        return {"assist_id": call.id, "staffed": True, "message": "已通知工作人员，请在原地稍候"}, Effects()

    # --- windows ---

    def _window(self, action: str, session: Session, device: DeviceProfile, req: WindowAction) -> Result:
        """The same window action as the staff console's (window_actions.run), for a caller on the bus."""
        done, effects = window_actions.run(session, self.ctx, action, req.window_id, req, self, self.base_url)
        return done.model_dump(mode="json"), effects


def _time_limit(statutory: int, promised: int) -> str:
    if promised == 0:
        return "即办（当场办结）"
    return f"法定{statutory}个工作日，承诺{promised}个工作日" if statutory else f"承诺{promised}个工作日"


def _proof(identity: Any, code: str | None) -> rating_proof.Proof | None:
    """The rater's proof from a bus request (the card read on the kiosk, or the typed rating code)."""
    if identity is not None:
        return rating_proof.Proof(id_number=identity.id_number)
    if code:
        return rating_proof.Proof(code=code)
    return None
