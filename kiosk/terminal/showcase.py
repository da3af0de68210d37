"""Every kiosk screen with sample data, without a hall server: a canned bus that answers like the real one and
the steps that lead to each screen. scripts/render_screens.py renders them to PNG files; the accessibility
test measures them. The sample person is the ID-card simulator's test identity (no real person). No Kivy here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from broker.messages import GroupQueue
from firmware_config.devices import KioskProfile, SimulatorConnection
from firmware_config.hall import load_hall_profile
from kiosk.terminal.catalog import CatalogCache
from kiosk.terminal.flows import KioskFlows
from kiosk.terminal.hall import HallFacts
from kiosk.terminal.service import KioskError
from kiosk.terminal.session import KioskSession

RESIDENCE = "11440300MB2D41730K000172102000000"  # 居住证申领 in the demo hall
SERIAL = RESIDENCE + "20261120" + "0001" + "00003"  # code + date + hall code + sequence


@dataclass(frozen=True)
class SampleCard:
    """Looks like kiosk.idcard.IdCard: the simulator's resident test card."""

    name: str = "李测试"
    id_number: str = "110105198506141230"
    photo: bytes | None = None
    masked_name: str = "李*试"
    masked_id_number: str = "1101**********1230"
    english_name: str = ""
    birth: date = date(1985, 6, 14)


ELDER_CARD = SampleCard(
    name="王长者", id_number="110105195003071236", masked_name="王*者", masked_id_number="1101**********1236",
    birth=date(1950, 3, 7),
)  # fmt: skip


@dataclass
class CannedBus:
    """Answers the kiosk's requests as the hall server would (shapes of hallserver.gateway's replies)."""

    clock: Callable[[], datetime]
    facts: HallFacts
    online: bool = True
    offline_reason: str | None = None
    print_error: str | None = None
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    on_change: Any = None
    on_notice: Any = None
    queue: list[GroupQueue] = field(
        default_factory=lambda: [
            GroupQueue(group="police", prefix="A", name="公安服务", waiting=12, estimated_wait_min=35),
            GroupQueue(group="social", prefix="B", name="社保医保", waiting=5, estimated_wait_min=15),
            GroupQueue(group="property", prefix="C", name="不动产登记", waiting=8, estimated_wait_min=42),
            GroupQueue(group="livelihood", prefix="E", name="民生服务", waiting=2, estimated_wait_min=6),
            GroupQueue(group="business", prefix="D", name="商事登记", waiting=4, estimated_wait_min=18),
            GroupQueue(group="consult", prefix="G", name="综合咨询", waiting=1, estimated_wait_min=3),
        ]
    )

    def base_url(self) -> str | None:
        return "http://hall.example:8000"

    def request(self, action: str, **params: Any) -> dict[str, Any]:
        self.sent.append((action, params))
        if not self.online:
            raise KioskError("unavailable", f"{self.offline_reason or '网络中断'}，请稍后再试或咨询工作人员")
        now = self.clock()
        job = None if self.print_error else "job-1"
        if action == "ticket.issue" and not self.facts.hours.is_open(now):
            raise KioskError("closed", "现在不是办公时间，将于明天 09:00 恢复取号")
        if action in ("ticket.issue", "appointment.checkin"):
            green = params.get("priority") == "green"
            number = "L003" if green else ("Y002" if action == "appointment.checkin" else "A012")
            return {
                "ticket": number,
                "group": "police",
                "group_name": "公安服务",
                "item_name": "居住证申领" if params.get("item_code") else None,
                "waiting_ahead": 0 if green else 3,
                "estimated_wait_min": 2 if green else 24,
                "issued_at": now.isoformat(),
                "lookup_url": "/m/t/Zx8kq2",
                "print_job_id": job,
                "print_error": self.print_error,
            }
        if action == "appointment.slots":
            return self._slots(params.get("day"))
        if action == "appointment.book":
            start = datetime.fromisoformat(str(params["slot_start"]))
            return {
                "code": "K7M2Q9XA",
                "item_code": params["item_code"],
                "item_name": "居住证申领",
                "slot_start": start.isoformat(),
                "slot_end": (start + timedelta(minutes=30)).isoformat(),
                "checkin_from": (start - timedelta(minutes=30)).isoformat(),
                "checkin_until": (start + timedelta(minutes=15)).isoformat(),
                "masked_name": "李*试",
                "print_job_id": job,
                "print_error": self.print_error,
            }
        if action == "progress.query":
            if params.get("serial_no") and params["serial_no"] != SERIAL:
                return {"cases": []}
            return {
                "cases": [
                    {
                        "serial_no": SERIAL,
                        "item_name": "居住证申领",
                        "status": "审查中",
                        "promised_date": (now.date() + timedelta(days=5)).isoformat(),
                        "delivery": "窗口领取",
                        "overdue": False,
                    }
                ]
            }
        if action == "visit.recent":
            return {
                "visits": [
                    {
                        "visit_id": 7,
                        "ticket": "A003",
                        "item_name": "居住证申领",
                        "window_name": "3号窗口",
                        "ended_at": now.isoformat(),
                        "rated": False,
                    }
                ]
            }
        if action == "visit.check":  # the showcase's one visit, proven by any card or code
            return {
                "visit_id": 7,
                "ticket": "A003",
                "item_name": "居住证申领",
                "window_name": "3号窗口",
                "window_number": 3,
                "staff": "陈*",
                "ended_at": now.isoformat(),
                "rated": False,
            }
        if action == "evaluation.submit":
            return {"evaluation_id": 1, "is_bad": False}
        if action == "assist.request":  # after hours the showcase hall has nobody at a console
            staffed = self.facts.hours.is_open(now)
            return {"assist_id": 1 if staffed else None, "staffed": staffed, "message": "已通知工作人员，请在原地稍候"}
        if action == "green.request":
            expires = (now + timedelta(minutes=3)).isoformat()
            return {"green_id": 1, "assist_id": 1, "expires_at": expires, "message": "已通知工作人员，请在原地稍候"}
        if action == "complaint.submit":
            due = (now + timedelta(days=7)).date().isoformat()
            message = f"已受理，请记下编号；我们将于{due}前答复您"
            return {"reference": "TS261123K7M2Q", "due": due, "message": message}
        if action == "contact.consent":  # the masked number only, as hallserver.services.notify.contacts
            phone = str(params.get("phone", ""))
            masked = phone[:3] + "****" + phone[-4:]
            return {
                "masked_phone": masked,
                "channel": "sms",
                "message": f"已登记手机号 {masked}，将发送办事提醒；回复TD可退订",
            }
        if action == "green.cancel":
            return {"cancelled": True, "message": "已取消绿色通道请求"}
        if action == "guide.print":
            return {"print_job_id": job, "print_error": self.print_error, "item_name": "居住证申领"}
        raise KioskError("invalid", f"未知的请求 {action}")

    def _slots(self, day: str | None) -> dict[str, Any]:
        hours = self.facts.hours
        now = self.clock()
        days, chosen, slots = [], day, []
        for offset in range(8):
            d = now.date() + timedelta(days=offset)
            calendar = hours.calendar
            periods = calendar.periods(d, 60) if calendar is not None else []
            times = [s for start, end in periods for s in _cut(start, end) if s > now]
            if not times:
                continue
            days.append({"date": d.isoformat(), "free": 0 if offset == 2 else 4 * len(times)})
            if (chosen is None and offset != 2) or chosen == d.isoformat():
                chosen = d.isoformat()
                slots = [
                    {"start": s.isoformat(), "end": (s + timedelta(minutes=30)).isoformat(), "free": 4 - i % 5}
                    for i, s in enumerate(times)
                ]
        return {
            "item_code": RESIDENCE,
            "item_name": "居住证申领",
            "date": chosen or now.date().isoformat(),
            "bookable_until": (now.date() + timedelta(days=7)).isoformat(),
            "days": days,
            "slots": slots,
        }


def _cut(start: datetime, end: datetime) -> list[datetime]:
    out, t = [], start
    while t + timedelta(minutes=30) <= end:
        out.append(t)
        t += timedelta(minutes=30)
    return out


def sample_flows(
    hall_dir: Path, cache: Path, now: datetime, twenty_four_hour: bool = False, **profile: Any
) -> tuple[KioskFlows, CannedBus]:
    """A kiosk of the hall in `hall_dir` at `now`, on the canned bus."""
    kiosk = KioskProfile(
        id="kiosk-24h-01" if twenty_four_hour else "kiosk-01",
        type="kiosk",
        name="24小时自助服务区自助机" if twenty_four_hour else "一楼大厅1号自助机",
        location="24小时自助服务区" if twenty_four_hour else "一楼大厅入口",
        printer="printer-kiosk-01",
        id_reader=SimulatorConnection(type="simulator"),
        twenty_four_hour=twenty_four_hour,
        assist_phone="0755-26600110" if twenty_four_hour else None,
        **profile,
    )
    facts = HallFacts.from_profile(load_hall_profile(hall_dir / "hall.yaml"))
    catalog = CatalogCache(cache / "catalog.json", hall_dir / "catalog")
    catalog.load()
    bus = CannedBus(lambda: now, facts)
    session = KioskSession(kiosk.idle_timeout_s)
    return KioskFlows(session, bus, kiosk, facts, catalog, lambda: now), bus


Step = Callable[[KioskFlows, CannedBus], None]


def _card(card: Any = None) -> Step:
    return lambda f, _b: f.card_presented(card or SampleCard())


def _keys(letters: str) -> Step:
    def press(f: KioskFlows, _b: CannedBus) -> None:
        for ch in letters:
            f.key(ch)

    return press


def _set(**changes: Any) -> Step:
    return lambda f, _b: setattr(_b, *next(iter(changes.items())))


# name → the steps from home (each scenario starts from a wiped session)
SCENARIOS: dict[str, list[Step]] = {
    "01-home": [],
    "02-identity": [lambda f, b: f.start("ticket")],
    "03-card-read": [lambda f, b: f.start("ticket"), _card()],
    "04-domains": [lambda f, b: f.start("ticket"), _card(), lambda f, b: f.proceed()],
    "05-items": [lambda f, b: f.start("guide"), lambda f, b: f.choose_domain("residence")],
    "06-search": [lambda f, b: f.start("guide"), lambda f, b: f.open_search(), _keys("jzz")],
    "07-confirm": [
        lambda f, b: f.start("ticket"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
    ],
    "08-ticket": [
        lambda f, b: f.start("ticket"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
        lambda f, b: f.confirm_ticket(),
    ],
    "09-ticket-not-printed": [
        _set(print_error="打印机缺纸，请凭屏幕上的号码等候叫号"),
        lambda f, b: f.start("ticket"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
        lambda f, b: f.confirm_ticket(),
    ],
    "10-guide": [
        lambda f, b: f.start("guide"),
        lambda f, b: f.choose_domain("residence"),
        lambda f, b: f.choose_item(RESIDENCE),
    ],
    "11-green-reasons": [lambda f, b: f.start("green")],
    "12-green-elderly-confirm": [
        lambda f, b: f.start("green"),
        lambda f, b: f.choose_green("老年人"),
        _card(ELDER_CARD),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
    ],
    "13-green-ticket": [
        lambda f, b: f.start("green"),
        lambda f, b: f.choose_green("老年人"),
        _card(ELDER_CARD),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
        lambda f, b: f.confirm_ticket(),
    ],
    "14-green-staff-wait": [
        lambda f, b: f.start("green"),
        lambda f, b: f.choose_green("残疾人"),
        _card(),
        lambda f, b: f.proceed(),
    ],
    "14-green-staff-declined": [
        lambda f, b: f.start("green"),
        lambda f, b: f.choose_green("残疾人"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.green_outcome(
            "green_declined", 1, "工作人员核实后，您暂不符合绿色通道条件。您可以普通取号，或到绿色通道窗口咨询", None
        ),
    ],
    "15-booking-slots": [
        lambda f, b: f.start("booking"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
    ],
    "16-booked": [
        lambda f, b: f.start("booking"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
        lambda f, b: f.book(next(s["start"] for s in (f.state.result or {})["slots"] if s["free"])),
    ],
    "17-checkin": [lambda f, b: f.start("checkin"), _keys("K7M2Q9XA")],
    "18-progress": [lambda f, b: f.start("progress"), _keys("4403")],
    "19-progress-invalid-serial": [lambda f, b: f.start("progress"), _keys("4403"), lambda f, b: f.query_progress()],
    "20-progress-not-found": [
        lambda f, b: f.start("progress"),
        _keys(RESIDENCE + "2026112099999"),
        lambda f, b: f.query_progress(),
    ],
    "21-progress-result": [lambda f, b: f.start("progress"), _card()],
    "22-evaluation": [lambda f, b: f.start("evaluation")],
    "23-visits": [lambda f, b: f.start("evaluation"), _card()],
    "24-rate": [lambda f, b: f.start("evaluation"), _card(), lambda f, b: f.choose_visit(7)],
    "25-thanks": [lambda f, b: f.start("evaluation"), _card(), lambda f, b: f.choose_visit(7), lambda f, b: f.rate(5)],
    "26-assist": [lambda f, b: f.call_staff()],
    "27-offline-home": [_set(online=False), _set(offline_reason="无法连接大厅服务网络")],
    # 28 is the time-out warning (scripts/render_screens.py renders it over 07-confirm)
    "29-complaint": [lambda f, b: f.start_complaint(), lambda f, b: f.complaint_reason(1), _keys("13800138000")],
    "30-complaint-done": [
        lambda f, b: f.start_complaint(),
        lambda f, b: f.complaint_reason(1),
        lambda f, b: f.submit_complaint(),
    ],
    # 短信提醒（留手机号） after a ticket (issue 16): typing with the consent given, then what was recorded
    "31-contact": [
        lambda f, b: f.start("ticket"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
        lambda f, b: f.confirm_ticket(),
        lambda f, b: f.start_contact(),
        lambda f, b: f.toggle_consent(),
        _keys("1380013800"),
    ],
    "32-contact-done": [
        lambda f, b: f.start("ticket"),
        _card(),
        lambda f, b: f.proceed(),
        lambda f, b: f.choose_item(RESIDENCE),
        lambda f, b: f.confirm_ticket(),
        lambda f, b: f.start_contact(),
        lambda f, b: f.toggle_consent(),
        _keys("13800138000"),
        lambda f, b: f.submit_contact(),
    ],
}


def play(flows: KioskFlows, bus: CannedBus, steps: list[Step]) -> None:
    """Run a scenario's steps from a wiped session (the canned bus reset)."""
    flows.home()
    bus.online, bus.offline_reason, bus.print_error = True, None, None
    for step in steps:
        step(flows, bus)
