"""/m/t/{token}/notify: the consent form of a waiting ticket, linked under its live position (whose page
refreshes itself). A phone number and the consent line (hallcore.contacts.CONSENT_TEXT) subscribe the number
to that ticket's messages (前面还有N位, then the rating invitation). Only today's waiting tickets; a few tries
per client address."""

from __future__ import annotations

from fastapi.responses import HTMLResponse
from sqlmodel import select

from hallcore.contacts import CONSENT_TEXT
from hallcore.errors import HallError
from hallserver.mobile.hall import Hall
from hallserver.mobile.html import e, error, page
from hallserver.mobile.limits import AttemptLimit
from hallserver.models import Ticket, TicketState
from hallserver.services.notify import contacts

TITLE = "短信提醒"


def link(token: str) -> str:
    """The button under a waiting ticket (the form has a page of its own: the ticket's page refreshes itself)."""
    return f'<a class="btn" href="/m/t/{e(token)}/notify" id="sms-link">快到我时短信提醒</a>'


def form_page(hall: Hall, token: str) -> HTMLResponse:
    """The number and consent form of a ticket."""
    back = f'<a class="btn" href="/m/t/{e(token)}" id="back">返回排队进度</a>'
    return page(TITLE, consent_form(token) + back, hall.ctx.profile.hall.name)


def consent_form(token: str) -> str:
    """The number and the consent line."""
    return (
        f'<div class="card"><h2>快到我时短信提醒</h2><form method="post" action="/m/t/{e(token)}/notify">'
        '<label for="phone">手机号码</label>'
        '<input type="tel" id="phone" name="phone" maxlength="20" inputmode="numeric" autocomplete="tel">'
        f'<div class="check"><label><input type="checkbox" id="consent" name="consent" value="1">'
        f"{e(CONSENT_TEXT)}</label></div>"
        '<button type="submit" id="notify">登记</button></form></div>'
    )


def subscribe(hall: Hall, token: str, client: str, fields: dict[str, str] | None, limit: AttemptLimit) -> HTMLResponse:
    """Record the number for the ticket, or say why not (in Chinese); the number is shown only masked."""
    name = hall.ctx.profile.hall.name
    back = f'<a class="btn" href="/m/t/{e(token)}" id="back">返回排队进度</a>'
    fields = fields or {}
    if not limit.allow(client, hall.ctx.now()):
        return page(TITLE, f'<div class="err" id="error">登记次数过多，请稍后再试</div>{back}', name, 429)
    try:
        with hall.tx() as s:
            ticket = s.exec(select(Ticket).where(Ticket.public_token == token)).first()
            if ticket is None:
                return error(TITLE, "没有找到这张排队凭条，请核对二维码或咨询工作人员", name, 404)
            if ticket.state != TicketState.waiting or ticket.service_date != hall.ctx.today():
                return page(
                    TITLE, f'<div class="err" id="error">这张凭条已不在排队中，无需短信提醒</div>{back}', name, 409
                )
            done = contacts.record(
                s, hall.ctx, fields.get("phone", ""), fields.get("consent") == "1", channel="sms", via="phone",
                by="phone-page", subjects=[f"ticket:{ticket.id}"],
            )  # fmt: skip
            message = done.message
    except HallError as exc:
        return page(TITLE, f'<div class="err" id="error">{e(exc.message)}</div>{consent_form(token)}{back}', name, 400)
    return page(TITLE, f'<div class="card"><p class="ok" id="done">{e(message)}</p></div>{back}', name)
