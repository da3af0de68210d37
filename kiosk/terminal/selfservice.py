"""Self-service flows that stay open after hours: guide lookup (printed checklist, QR code for phones),
progress query, evaluation of a recent visit, and 呼叫工作人员. A mixin of KioskFlows; no Kivy here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hallcore.announce import parse_ticket

if TYPE_CHECKING:
    from kiosk.terminal.catalog import CatalogCache
    from kiosk.terminal.session import KioskSession, KioskState

GUIDE_PATH = "/api/v1/catalog/items/{code}"


class SelfService:
    """Guide, progress, evaluation and help (uses the session and _call of KioskFlows)."""

    session: KioskSession
    catalog: CatalogCache
    backend: Any
    public_url: str | None

    if TYPE_CHECKING:

        @property
        def state(self) -> KioskState: ...

        def _call(
            self, busy: str, action: str, params: dict[str, Any], done: Callable[[dict[str, Any]], object]
        ) -> None: ...

        def identity_params(self) -> dict[str, Any] | None: ...

    # --- guide ---

    def guide_url(self, code: str) -> str | None:
        """The guide's address for a phone (the QR code): the server's public URL + the guide path."""
        base = self.backend.base_url() or self.public_url
        return f"{base.rstrip('/')}{GUIDE_PATH.format(code=code)}" if base else None

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
        serial = self.state.keypad.strip()
        if identity is None and len(serial) < 8:
            self.session.update(error="请输入完整的办件流水号，或刷身份证查询")
            return
        params: dict[str, Any] = {"identity": identity} if identity else {"serial_no": serial}
        self._call("正在查询…", "progress.query", params, lambda data: self.session.go("progress_result", result=data))

    # --- evaluation ---

    def recent_visits(self) -> None:
        """visit.recent: the person's visits of the last days, to choose one to rate."""
        self._call(
            "正在查找您近期的办事记录…",
            "visit.recent",
            {"identity": self.identity_params()},
            lambda data: self.session.go("visits", result=data),
        )

    def rate_ticket(self) -> None:
        """Rate today's visit of the ticket number typed."""
        ticket = self.state.keypad.strip().upper()
        if parse_ticket(ticket) is None:  # 1–2 letters and 3 digits (A012) or 4 (A1000)
            self.session.update(error="请输入您今天的排队号码：字母加3位或4位数字，如 A012、A1000")
            return
        self.session.go("rate", result={"ticket": ticket})

    def choose_visit(self, visit_id: int) -> None:
        """A visit from the list."""
        self.session.touch()
        visits = (self.state.result or {}).get("visits", [])
        chosen = next((v for v in visits if v.get("visit_id") == visit_id), None)
        if chosen is not None:
            self.session.go("rate", visit_id=visit_id, result={"ticket": chosen.get("ticket"), **chosen})

    def rate(self, level: int) -> None:
        """One of the five levels: evaluation.submit (channel kiosk, 5 = 非常满意)."""
        s = self.state
        params: dict[str, Any] = {"level": level, "channel": "kiosk"}
        if s.visit_id is not None:
            params["visit_id"] = s.visit_id
        else:
            params["ticket"] = (s.result or {}).get("ticket")
        self._call("正在提交评价…", "evaluation.submit", params, lambda data: self.session.go("thanks", result=data))

    # --- help ---

    def call_staff(self) -> None:
        """呼叫工作人员 (assist.request): the staff on duty are told where; works from every screen."""
        s = self.state
        params = {
            "reason": "老年人需要帮助" if self.session.elderly else None,
            "screen": s.screen,
            "elderly": self.session.elderly,
        }
        if not self.backend.online:
            self.session.go("assist", result={"offline": True})
            return
        self._call("正在呼叫工作人员…", "assist.request", params, lambda data: self.session.go("assist", result=data))
