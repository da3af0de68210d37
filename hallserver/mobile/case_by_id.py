"""/m/case/id: a citizen's own cases by ID number and a one-time SMS code (services/case_lookup_code.py).
The page answers the same for an unknown ID and an ID without a phone number on file; the list shows each
case with its serial number masked and no name."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from hallcore.errors import HallError
from hallserver.mobile.hall import Hall
from hallserver.mobile.html import e, page
from hallserver.services import case_lookup_code, case_progress
from hallserver.services.case_lookup_code import LookupCodes

TITLE = "凭身份证查询办件"
STATUS = {"invalid": 400, "rate_limited": 429, "expired": 410, "too_many_tries": 429, "wrong_code": 400}


def _err(message: str | None) -> str:
    return f'<div class="err" id="error">{e(message)}</div>' if message else ""


def id_form(message: str | None = None) -> str:
    """The ID number form (also shown on /m/case below the serial form)."""
    return (
        f'<div class="card"><h2>凭身份证号查询本人办件</h2>{_err(message)}'
        '<form method="post" action="/m/case/id"><label for="id_number">身份证号码</label>'
        '<input type="text" id="id_number" name="id_number" maxlength="18" autocomplete="off">'
        '<button type="submit" id="send-code">获取短信验证码</button></form>'
        '<p class="muted">验证码发送至您办事时登记的手机号。</p></div>'
    )


def _code_form(ref: str, message: str | None = None) -> str:
    notice = f'<p id="sent">{e(case_lookup_code.SENT)}</p><p class="muted">{e(case_lookup_code.NO_PHONE_HINT)}</p>'
    return (
        f'<div class="card"><h1>{TITLE}</h1>{notice}{_err(message)}'
        f'<form method="post" action="/m/case/id/verify"><input type="hidden" name="ref" value="{e(ref)}">'
        '<label for="code">短信验证码</label>'
        '<input type="tel" id="code" name="code" maxlength="6" inputmode="numeric" autocomplete="one-time-code">'
        '<button type="submit" id="verify">查询</button></form>'
        '<a class="btn" href="/m/case" id="again">重新获取</a></div>'
    )


def request_code(hall: Hall, codes: LookupCodes, client: str, fields: dict[str, str] | None) -> HTMLResponse:
    """Send a code when the ID has a phone on file; the same page either way."""
    name = hall.ctx.profile.hall.name
    raw = (fields or {}).get("id_number", "")[:32]
    if not raw:
        return page(TITLE, id_form("请输入身份证号码"), name, 400)
    try:
        with hall.tx() as s:
            ref = codes.request(s, hall.ctx, raw, client)
    except HallError as exc:
        return page(TITLE, id_form(exc.message), name, STATUS.get(exc.code, 400))
    return page(TITLE, _code_form(ref), name)


def verify(hall: Hall, codes: LookupCodes, fields: dict[str, str] | None) -> HTMLResponse:
    """The person's cases when the code matches."""
    name = hall.ctx.profile.hall.name
    fields = fields or {}
    ref, code = fields.get("ref", "")[:64], fields.get("code", "")[:6]
    if not code:
        return page(TITLE, _code_form(ref, "请输入短信中的6位验证码"), name, 400)
    try:
        who = codes.verify(hall.ctx, ref, code)
    except HallError as exc:
        if exc.code == "wrong_code":
            return page(TITLE, _code_form(ref, f"{exc.message}（还可输入{exc.data['tries_left']}次）"), name, 400)
        return page(TITLE, id_form(exc.message), name, STATUS.get(exc.code, 400))
    try:
        with hall.tx() as s:
            cases = case_progress.progress(s, hall.ctx, id_number=who.id_number)
    except case_progress.CityUnavailable:
        return page(TITLE, id_form(case_progress.CITY_DOWN), name, 503)
    return page(TITLE, _list(cases), name)


def mask_serial(serial: str) -> str:
    """A serial number with its middle hidden (its start and last digits stay, to tell cases apart)."""
    return serial if len(serial) <= 10 else f"{serial[:4]}{'*' * 6}{serial[-6:]}"


def _list(cases: list[case_progress.Progress]) -> str:
    if not cases:
        return (
            f'<div class="card"><h1>{TITLE}</h1><p id="none">没有查到您在本大厅的办件记录。</p>'
            '<p class="muted">如有疑问，请到大厅咨询台或办件窗口查询。</p></div>'
        )
    items = []
    for p in cases:
        reason = f"<dt>原因</dt><dd>{e(p.reason)}</dd>" if p.reason else ""
        result = f"<dt>办理结果</dt><dd>{e(p.result)}</dd>" if p.result else ""
        late = '<p class="err">已超过承诺办结时间，可拨打12345反映</p>' if p.overdue else ""
        items.append(
            f'<div class="card case"><h2>{e(p.item_name)}</h2><p class="big status">{e(p.status)}</p>{late}<dl>'
            f"<dt>办件流水号</dt><dd>{e(mask_serial(p.serial_no))}</dd>"
            f"<dt>受理时间</dt><dd>{p.accepted_at:%Y年%m月%d日}</dd>"
            f"<dt>承诺办结日期</dt><dd>{p.promised_date:%Y年%m月%d日}</dd>{reason}{result}</dl></div>"
        )
    return f'<div class="card"><h1>{TITLE}</h1><p>共{len(cases)}件</p></div><div id="cases">{"".join(items)}</div>'
