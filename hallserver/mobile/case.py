"""/m/case: a case's status and history by serial number plus the 查询码 printed beside it on the receipt.
Serials are guessable, so the code is required and each client has a few tries per ten minutes."""

from __future__ import annotations

import hmac

from fastapi.responses import HTMLResponse

from hallserver.mobile.case_by_id import id_form
from hallserver.mobile.hall import Hall
from hallserver.mobile.html import e, page
from hallserver.mobile.limits import AttemptLimit
from hallserver.services import case_progress, rating_proof

NOT_FOUND = "没有查到这个办件：请核对受理凭证上的办件流水号和6位查询码"


def _form(serial: str = "", message: str | None = None) -> str:
    err = f'<div class="err" id="error">{e(message)}</div>' if message else ""
    return (
        f'<div class="card"><h1>办件进度查询</h1>{err}<form method="post" action="/m/case">'
        '<label for="serial">办件流水号</label>'
        f'<input type="text" id="serial" name="serial" maxlength="64" value="{e(serial)}" autocomplete="off">'
        '<label for="code">查询码（受理凭证上的6位数字）</label>'
        '<input type="tel" id="code" name="code" maxlength="6" inputmode="numeric" autocomplete="off">'
        '<button type="submit" id="go">查询</button></form>'
        '<p class="muted">流水号和查询码印在窗口出具的受理凭证上。</p></div>'
    )


def case_form(hall: Hall) -> HTMLResponse:
    """The empty form, and below it the lookup by ID number and SMS code."""
    return page("办件进度", _form() + id_form(), hall.ctx.profile.hall.name)


def case_result(hall: Hall, client: str, fields: dict[str, str] | None, limit: AttemptLimit) -> HTMLResponse:
    """Status and history of one case, when the serial and its code match; a few tries per client."""
    name = hall.ctx.profile.hall.name
    if fields is None:
        return page("办件进度", _form(message="请求格式不正确，请重新填写"), name, 400)
    serial = fields.get("serial", "").upper()[:64]
    code = fields.get("code", "")
    if not serial or not code:
        return page("办件进度", _form(serial, "请填写办件流水号和6位查询码"), name, 400)
    if not limit.allow(client, hall.ctx.now()):
        return page("办件进度", _form(serial, "查询次数过多，请10分钟后再试，或到大厅咨询台查询"), name, 429)
    if not hmac.compare_digest(rating_proof.case_query_code(hall.ctx, serial), code):
        return page("办件进度", _form(serial, NOT_FOUND), name, 404)
    try:
        with hall.tx() as s:
            found = case_progress.progress(s, hall.ctx, serial_no=serial)
    except case_progress.CityUnavailable:
        return page("办件进度", _form(serial, case_progress.CITY_DOWN), name, 503)
    if not found:
        return page("办件进度", _form(serial, NOT_FOUND), name, 404)
    p = found[0]
    zone = hall.ctx.calendar.zone
    rows = "".join(
        f"<tr><td>{e(_when(h.get('at'), zone))}</td><td>{e(h.get('status'))}</td><td>{e(h.get('note') or '')}</td></tr>"
        for h in p.history
    )
    late = '<p class="err">已超过承诺办结时间，可拨打12345反映</p>' if p.overdue else ""
    body = (
        f'<div class="card"><h1>{e(p.item_name)}</h1><p class="big" id="status">{e(p.status)}</p>{late}<dl>'
        f"<dt>办件流水号</dt><dd>{e(p.serial_no)}</dd>"
        f"<dt>受理时间</dt><dd>{p.accepted_at:%Y年%m月%d日 %H:%M}</dd>"
        f'<dt>承诺办结日期</dt><dd id="promised">{p.promised_date:%Y年%m月%d日}</dd>'
        f"<dt>领取方式</dt><dd>{e(p.delivery)}</dd></dl></div>"
        f'<div class="card"><h2>办理过程</h2><table id="history">{rows}</table></div>'
        '<a class="btn" href="/m/case">查询其他办件</a>'
    )
    return page("办件进度", body, name)


def _when(at: str | None, zone: object) -> str:
    if not at:
        return ""
    return f"{at[5:10].replace('-', '月')}日 {at[11:16]}"
