"""Self-service flows that stay open after hours: guide lookup (printed checklist, QR code for phones),
progress query, evaluation of a recent visit, and 呼叫工作人员. A mixin of KioskFlows; no Kivy here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hallcore import links
from hallcore.announce import parse_ticket
from hallcore.serials import looks_like_serial
from kiosk.terminal.flowhost import FlowHost

if TYPE_CHECKING:
    from kiosk.terminal.catalog import CatalogCache

HOTLINE = "12345"
RATING_CODE = re.compile(r"^[0-9]{6}$")  # the visit's rating code (rating invitation)


class SelfService(FlowHost):
    """Guide, progress, evaluation and help (uses the session and _call of KioskFlows)."""

    catalog: CatalogCache
    backend: Any
    public_url: str | None
    profile: Any
    facts: Any
    runner: Any

    if TYPE_CHECKING:

        def is_open(self) -> bool: ...

    # --- guide ---

    def guide_url(self, code: str) -> str | None:
        """The guide's address for a phone (the QR code): the server's public URL + the guide path."""
        base = self.backend.base_url() or self.public_url
        return links.absolute(base, links.guide_path(code)) if base else None

    def print_guide(self) -> None:
        """打印材料清单 (guide.print): the kiosk's printer prints the one-time checklist."""
        code = self.state.item_code
        if code is None:
            return
        self.session.touch()
        self._call(
            "正在打印材料清单…",
            "guide.print",
            {"item_code": code},
            lambda data: self.session.update(notice=data.get("print_error") or "材料清单正在打印，请在下方出纸口取走"),
        )

    # --- progress ---

    def query_progress(self) -> None:
        """progress.query by the card just read, or by the serial number typed."""
        identity = self.identity_params()
        serial = self.state.keypad.strip().upper()
        if identity is None and not serial:
            self.session.update(error="请输入受理凭证上的办件流水号，或刷身份证查询")
            return
        # 统一业务流水号: implementation code, yyyymmdd, the hall code (4) and a 5-digit daily sequence
        if identity is None and not looks_like_serial(serial):
            self.session.update(
                error=f"流水号“{serial[:24]}”格式不对：应为事项编码加8位日期、4位大厅编码和5位序号，请核对受理凭证",
                notice=None,
            )
            return
        params: dict[str, Any] = {"identity": identity} if identity else {"serial_no": serial}
        asked = {"serial": serial} if identity is None else {}
        self._call(
            "正在查询…",
            "progress.query",
            params,
            lambda data: self.session.go("progress_result", result={**data, **asked}),
        )

    # --- evaluation ---

    def recent_visits(self) -> None:
        """visit.recent: the person's visits of the last days, to choose one to rate."""
        self._call(
            "正在查找您近期的办事记录…",
            "visit.recent",
            {"identity": self.identity_params()},
            lambda data: self.session.go("visits", result=data),
        )

    def assist_phone(self) -> str | None:
        """The number this self-service point gives for help (the kiosk's own, else the hall's)."""
        return getattr(self.profile, "assist_phone", None) or self.facts.phone

    def rate_ticket(self) -> None:
        """Rate today's visit by its ticket number and the 6-digit rating code of the invitation (A012 483920):
        the server checks both (visit.check) before the five levels appear."""
        typed = self.state.keypad.strip().upper().replace(" ", "")
        ticket, code = typed[:-6], typed[-6:]
        if parse_ticket(ticket) is None or not RATING_CODE.match(code):
            self.session.update(
                error="请输入今天的排队号码和评价短信中的6位评价码，如 A012483920；或刷取号时使用的身份证"
            )
            return
        self._check_visit({"ticket": ticket, "code": code}, {"code": code})

    def choose_visit(self, visit_id: int) -> None:
        """A visit from the card's list: the server checks the card against it (visit.check) first."""
        self.session.touch()
        visits = (self.state.result or {}).get("visits", [])
        chosen = next((v for v in visits if v.get("visit_id") == visit_id), None)
        identity = self.identity_params()
        if chosen is not None and identity is not None:
            self._check_visit({"visit_id": visit_id, "identity": identity}, {})

    def _check_visit(self, params: dict[str, Any], keep: dict[str, Any]) -> None:
        """visit.check: the visit's window, masked staff name and item; only then the five levels."""

        def checked(data: dict[str, Any]) -> None:
            if data.get("rated"):
                self.session.update(error="这次办事已经评价过了，感谢您的反馈")
                return
            self.session.go("rate", visit_id=data.get("visit_id"), result={**data, **keep})

        self._call("正在核验办事记录…", "visit.check", params, checked)

    def rate(self, level: int) -> None:
        """One of the five levels: evaluation.submit (channel kiosk, 5 = 非常满意) with the visit's proof."""
        s = self.state
        data = s.result or {}
        params: dict[str, Any] = {"level": level, "channel": "kiosk", "visit_id": s.visit_id}
        identity = self.identity_params()
        if data.get("code"):
            params["code"] = data["code"]
        elif identity is not None:
            params["identity"] = identity
        else:
            self.session.go("evaluation", result=None, error="请重新刷身份证或输入评价码后再评价")
            return
        self._call("正在提交评价…", "evaluation.submit", params, lambda data: self.session.go("thanks", result=data))

    # --- help ---

    def call_staff(self) -> None:
        """呼叫工作人员 (assist.request): the staff on duty are told where; works from every screen."""
        s = self.state
        self.session.touch()
        params = {
            "reason": "老年人需要帮助" if self.session.elderly else None,
            "screen": s.screen,
            "elderly": self.session.elderly,
        }
        if not self.is_open():
            # After hours: the hotline and this point's number at once; the server alerts a floor console only
            # if someone has one open (staffed), and the screen then says so.
            self.session.go("assist", result={"after_hours": True})
            if self.backend.online:
                generation = self.session.generation

                def answered(data: Any) -> None:
                    now = self.state
                    if self.session.generation != generation or now.screen != "assist" or isinstance(data, Exception):
                        return
                    self.session.update(result={**(now.result or {}), "staffed": bool(data.get("staffed"))})

                self.runner(lambda: self.backend.request("assist.request", **params), answered)
            return
        if not self.backend.online:
            self.session.go("assist", result={"offline": True})
            return
        self._call("正在呼叫工作人员…", "assist.request", params, lambda data: self.session.go("assist", result=data))
