"""反映问题 on the kiosk, offscreen with the CJK font (portrait): from 呼叫工作人员 to the complaint screen, a
reason and a mobile number typed on the keypad, a bad number refused in Chinese, then complaint.submit over
the real bus and the reference on screen. Screens go to /tmp/hallq-screens (kiosk-complaint-*.png)."""

from __future__ import annotations

from pathlib import Path

from hallserver.db import session_scope
from hallserver.services import complaints
from tests.gateway.fixtures import Bus
from tests.kiosk.driver import PORTRAIT, KioskDriver
from tests.ui.stage import Stage, stage  # noqa: F401 (the offscreen stage fixture)

PHONE = "13600001234"


def test_a_citizen_reports_at_the_kiosk(bus: Bus, stage: Stage, tmp_path: Path) -> None:  # noqa: F811
    kiosk = KioskDriver(bus, stage, tmp_path, PORTRAIT, "complaint")
    try:
        kiosk.tap("呼叫工作人员")
        kiosk.screen("assist")
        kiosk.tap("反映问题（办不成事、投诉）")
        kiosk.screen("complaint")
        kiosk.tap("提交")
        kiosk.until(lambda: kiosk.shows("请先选择您要反映的问题"), "the missing reason")
        kiosk.tap("窗口之间相互推诿")
        kiosk.type("1360")
        kiosk.tap("提交")
        kiosk.until(lambda: kiosk.shows("手机号码应为11位数字"), "the short number")
        kiosk.type("0001234")
        kiosk.shot("complaint-form")
        from kiosk.ui.access import audit

        assert [str(f) for f in audit(kiosk.ui.view) if f.rule == "contrast"] == []
        kiosk.kiosk.session.elderly = True  # 大字版: every ageing-friendly rule holds on this screen too
        kiosk.kiosk.session.update()
        kiosk.screen("complaint")
        kiosk.stage.pump(2)
        # (the frame's 演示 button exists only on demo kiosks)
        assert [str(f) for f in audit(kiosk.ui.view) if not f.what.startswith("演示")] == []
        kiosk.shot("complaint-elderly")
        kiosk.tap("提交")
        kiosk.screen("complaint_done", timeout=15)
        reference = kiosk.state.result["reference"]
        assert kiosk.shows(reference) and kiosk.shows("已受理您的办不成事反映")
        assert not any(PHONE in t for t in kiosk.texts())
        kiosk.shot("complaint-done")
        hall = bus.http.app.state.hall  # type: ignore[attr-defined]
        with session_scope(hall.engine) as s:
            c = complaints.get(s, reference)
            assert (c.channel, c.received_by, c.content) == ("kiosk", "kiosk-01", "窗口之间相互推诿")
            assert c.phone_masked == "136****1234"
    finally:
        kiosk.close()
