"""反映问题 at the kiosk (complaints and 办不成事): the citizen picks the kind and what went wrong from a list
(a kiosk has no Chinese input), optionally types a mobile number on the keypad, and gets a reference and the
date an answer is due. The bus action complaint.submit runs the server's complaints service. A mixin of
KioskFlows; no Kivy here."""

from __future__ import annotations

from typing import Any

from kiosk.terminal.flowhost import FlowHost

KINDS = (("cannot_do", "办不成事"), ("complaint", "投诉"))
REASONS = (  # short enough for two columns in 大字版; each is the complaint's content (5+ characters)
    "多次往返仍未办成",
    "窗口之间相互推诿",
    "指南与实际要求不符",
    "等候时间过长了",
    "工作人员态度不好",
    "系统故障无法办理",
    "其他问题请联系我",
)
PHONE_DIGITS = 11


class ComplaintFlows(FlowHost):
    """The complaint screen's moves (uses the session and _call of KioskFlows)."""

    def start_complaint(self) -> None:
        """反映问题: the form, 办不成事 first (what the hall's window is for)."""
        self.session.touch()
        self.session.go("complaint", result={"kind": "cannot_do", "reason": None})

    def _form(self) -> dict[str, Any]:
        return dict(self.state.result or {"kind": "cannot_do", "reason": None})

    def complaint_kind(self, kind: str) -> None:
        self.session.touch()
        self.session.update(result=self._form() | {"kind": kind}, error=None)

    def complaint_reason(self, index: int) -> None:
        self.session.touch()
        self.session.update(result=self._form() | {"reason": index}, error=None)

    def submit_complaint(self) -> None:
        """complaint.submit with the chosen reason and, if typed, the phone number."""
        form = self._form()
        if form.get("reason") is None:
            self.session.update(error="请先选择您要反映的问题")
            return
        phone = self.state.keypad[:20] or None
        if phone is not None and len(phone) != PHONE_DIGITS:
            self.session.update(error="手机号码应为11位数字；不留号码请点“清空”")
            return
        self.session.touch()
        params = {"kind": form["kind"], "content": REASONS[form["reason"]], "phone": phone, "written_reply": False}
        self._call(
            "正在提交，请稍候…",
            "complaint.submit",
            params,
            lambda data: self.session.go("complaint_done", result=data),
        )
