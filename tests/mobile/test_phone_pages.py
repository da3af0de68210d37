"""Issue 16: the phone pages behind the QR codes, in headless Chromium as a 375x812 phone — the ticket's
live position, the item's guide, case progress by serial + 查询码, the one-time rating link and the
complaint form — with their refusals, masking and escaping. Screenshots: /tmp/hallq-mobile/."""

from __future__ import annotations

import json

from sqlmodel import select

from hallserver.db import session_scope
from hallserver.models import Evaluation, Rectification, Visit
from hallserver.presentation import paperwork
from hallserver.services import departments, rating_proof
from tests.integration.helpers import id_number
from tests.mobile.conftest import API, ITEM, Phone


def test_the_slip_qr_opens_the_live_position(phone: Phone) -> None:
    person = {"method": "id_card", "id_number": id_number(61), "name": "欧阳小明"}
    first = phone.ticket({"method": "id_card", "id_number": id_number(60), "name": "钱多"})
    mine = phone.ticket(person)
    assert mine["lookup_url"].startswith(f"{phone.base_url}/m/t/")  # the QR code: a phone page, not JSON
    phone.driver.get(mine["lookup_url"])
    assert phone.find("#number").text == mine["ticket"]
    assert phone.find("#ahead").text == "1" and "您前面还有 1 人" in phone.text()
    assert "欧**明" in phone.text() and "欧阳小明" not in phone.driver.page_source
    assert person["id_number"] not in phone.driver.page_source
    assert phone.driver.find_element("css selector", "meta[http-equiv=refresh]")  # refreshes itself
    phone.fits()
    phone.screenshot("ticket-waiting")
    phone.serve()  # the first ticket is served; the page now counts nobody ahead
    phone.http.post(f"{API}/windows/w05/call-next").raise_for_status()
    phone.driver.refresh()
    assert "请到" in phone.find("#window").text and first["ticket"] != mine["ticket"]
    phone.screenshot("ticket-called")
    phone.http.post(f"{API}/windows/w05/start").raise_for_status()
    phone.http.post(f"{API}/windows/w05/finish", json={"outcome": "咨询"}).raise_for_status()
    # A made-up or malformed token finds nothing and says so in Chinese.
    for bad in ("A" * 22, "x%2F..%2Fy", "<script>"):
        phone.open(f"/m/t/{bad}")
        assert "没有找到" in phone.text()
    assert phone.http.get("/m/t/" + "A" * 22).status_code == 404


def test_the_guide_qr_opens_a_readable_guide(phone: Phone) -> None:
    phone.open(f"/m/guide/{ITEM}")
    assert phone.find("#item").text == "居住证申领"
    assert "个工作日" in phone.find("#limit").text or "即办" in phone.find("#limit").text
    assert phone.find("#fee").text and phone.find("#where").text
    assert len(phone.driver.find_elements("css selector", "#materials li")) >= 1
    phone.fits()
    phone.screenshot("guide")
    phone.open("/m/guide/%3Cscript%3Ealert(1)")
    assert "没有找到这个事项" in phone.text() and "<script>alert" not in phone.driver.page_source


def _case(phone: Phone) -> str:
    phone.ticket({"method": "id_card", "id_number": id_number(62), "name": "李小红"})
    serial = str(phone.serve(outcome="受理")["serial_no"])
    secret = departments.register(phone.http.app.state.department_secrets, "gongan", "市公安局")  # type: ignore[attr-defined]
    body = {
        "serial_no": serial,
        "status": "reviewing",
        "event_id": f"{serial}-1",
        "at": phone.clock.now().isoformat(),
        "note": "<img src=x onerror=alert(1)>材料审查中",
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(phone.clock.now().timestamp()))
    headers = {"X-Hallq-Department": "gongan", "X-Hallq-Timestamp": ts}
    headers["X-Hallq-Signature"] = departments.sign(secret, ts, raw)
    response = phone.http.post(f"{API}/departments/webhook", content=raw, headers=headers)
    assert response.status_code in (200, 201, 202), response.text
    return serial


def test_case_progress_needs_the_serial_and_its_query_code(phone: Phone) -> None:
    serial = _case(phone)
    code = rating_proof.case_query_code(phone.hall.ctx, serial)
    phone.open("/m/case")
    phone.fits()
    phone.screenshot("case-form")
    # The serial alone (guessable) with a wrong code shows nothing of the case.
    phone.find("#serial").send_keys(serial)
    phone.find("#code").send_keys(f"{(int(code) + 1) % 10**6:06d}")
    phone.find("#go").click()
    assert "没有查到这个办件" in phone.find("#error").text and "审查中" not in phone.text()
    phone.find("#code").send_keys(code)
    phone.find("#go").click()
    assert phone.find("#status").text in ("审查中", "已受理")
    assert "居住证申领" in phone.text() and "李小红" not in phone.driver.page_source
    assert id_number(62) not in phone.driver.page_source
    phone.fits()
    phone.screenshot("case-progress")
    # The receipt prints the 查询码 beside the serial, and its QR code opens this page on the case.
    with session_scope(phone.hall.engine) as s:
        visit = s.exec(select(Visit).where(Visit.serial_no == serial)).one()
        paper = paperwork.for_visit(s, phone.hall.ctx, visit, phone.base_url)
    assert paper is not None and paper.document["query_code"] == code
    phone.driver.get(paper.document["qr"])
    assert phone.find("#status").text in ("审查中", "已受理")
    # Hostile text typed into the form comes back inert.
    phone.open("/m/case")
    phone.find("#serial").send_keys('"><script>window.pwned=1</script>')
    phone.find("#code").send_keys("123456")
    phone.find("#go").click()
    phone.find("#error")
    assert phone.driver.execute_script("return window.pwned === undefined")
    assert "&lt;script&gt;" in phone.driver.page_source or "<script>window.pwned" not in phone.driver.page_source


def test_case_lookups_are_rate_limited_per_client(phone: Phone) -> None:
    form = {"serial": "11440300MB2D41730K00017210200000020261123000100001", "code": "000000"}
    statuses = [phone.http.post("/m/case", data=form).status_code for _ in range(6)]
    assert statuses[:5] == [404] * 5 and statuses[5] == 429
    refused = phone.http.post("/m/case", data=form)
    assert refused.status_code == 429 and "查询次数过多" in refused.text


def test_the_rating_link_rates_once_and_opens_a_rectification(phone: Phone) -> None:
    phone.ticket({"method": "id_card", "id_number": id_number(63), "name": "张小三"})
    visit = phone.serve()
    token = phone.rating_link(visit["id"])
    phone.open(f"/m/rate/{token}")
    shown = phone.find("#target").text
    assert "5号窗口" in shown or "窗口" in shown
    assert "*" in shown and "张小三" not in phone.driver.page_source  # staff masked, rater absent
    phone.fits()
    phone.screenshot("rate-form")
    # 非常不满意 without a reason is sent back.
    phone.find("#level-1").click()
    phone.find("#submit").click()
    assert "请选择不满意的原因" in phone.find("#error").text
    phone.find("#level-1").click()
    phone.find("#reason-attitude").click()
    phone.find("#comment").send_keys("<script>alert(1)</script>态度生硬")
    phone.screenshot("rate-filled")
    phone.find("#submit").click()
    assert phone.find("#done").text == "评价已提交" and "回访整改" in phone.text()
    phone.screenshot("rate-done")
    with session_scope(phone.hall.engine) as s:
        (rating,) = s.exec(select(Evaluation).where(Evaluation.visit_id == visit["id"])).all()
        assert rating.channel == "qr" and rating.is_bad and "服务态度不好" in (rating.comment or "")
        assert s.exec(select(Rectification).where(Rectification.visit_id == visit["id"])).first() is not None
    # Used: the same link cannot rate again (page and post).
    phone.open(f"/m/rate/{token}")
    assert "已经评价过了" in phone.text() and not phone.driver.find_elements("css selector", "#submit")
    again = phone.http.post(f"/m/rate/{token}", data={"level": "5"})
    assert again.status_code == 410
    with session_scope(phone.hall.engine) as s:
        assert len(s.exec(select(Evaluation).where(Evaluation.visit_id == visit["id"])).all()) == 1


def test_a_forged_or_expired_rating_link_rates_nothing(phone: Phone) -> None:
    phone.ticket({"method": "id_card", "id_number": id_number(64), "name": "赵大"})
    visit = phone.serve()
    token = phone.rating_link(visit["id"])
    visit_part, day, sig = token.split(".")
    other = str(int(visit_part) - 1)  # a visit the rater did not have, with this link's signature
    with session_scope(phone.hall.engine) as s:
        before = len(s.exec(select(Evaluation)).all())
    for bad in (f"{other}.{day}.{sig}", f"{visit_part}.{day}.{sig[:-2]}AA", f"{visit_part}.29991231.{sig}"):
        page = phone.http.get(f"/m/rate/{bad}")
        assert page.status_code == 404 and "评价链接无效" in page.text, bad
        posted = phone.http.post(f"/m/rate/{bad}", data={"level": "1", "r_attitude": "1"})
        assert posted.status_code == 404
    phone.open(f"/m/rate/{other}.{day}.{sig}")
    assert "评价链接无效" in phone.text()
    phone.screenshot("rate-invalid")
    start = phone.clock.now()
    phone.clock.advance(days=8)
    try:
        expired = phone.http.post(f"/m/rate/{token}", data={"level": "1", "r_attitude": "1"})
        assert expired.status_code == 410 and "已过期" in expired.text
    finally:
        phone.clock.set(start)
    with session_scope(phone.hall.engine) as s:
        assert len(s.exec(select(Evaluation)).all()) == before  # nothing rated, on no visit


def test_the_complaint_form(phone: Phone) -> None:
    phone.open("/m/complaint")
    phone.find("#content")
    phone.fits()
    phone.screenshot("complaint-form")
    phone.find("#send").click()  # nothing written: refused on the page, nothing sent
    assert "请填写反映的内容" in phone.find("#error").text
    phone.find("#content").send_keys("<b>窗口</b>说材料不全但没说缺什么")
    phone.find("#phone").send_keys("13800138000")
    phone.find("#send").click()
    assert phone.find("#reference").text and phone.find("#due").text  # the public intake's answer
    assert "13800138000" not in phone.text()
    phone.screenshot("complaint-done")
