"""/m/t/{token} (a ticket's live position, refreshing itself) and /m/guide/{code} (an item's guide)."""

from __future__ import annotations

from fastapi.responses import HTMLResponse
from sqlmodel import select

from hallserver.mobile.hall import Hall
from hallserver.mobile.html import e, error, page
from hallserver.mobile.ticket_notify import link
from hallserver.models import Ticket, TicketState
from hallserver.services import estimates, tickets
from hallserver.services.lifecycle import STATE_LABELS

REFRESH_S = 20


def ticket_page(hall: Hall, token: str) -> HTMLResponse:
    """The ticket the slip's QR names: number, queue, state, people ahead, estimated wait; masked name only."""
    name = hall.ctx.profile.hall.name
    with hall.tx() as s:
        ticket = s.exec(select(Ticket).where(Ticket.public_token == token)).first()
        if ticket is None:
            return error("排队进度", "没有找到这张排队凭条，请核对二维码或咨询工作人员", name, 404)
        group = next((g for g in hall.ctx.profile.groups if g.code == ticket.group_code), None)
        state = ticket.state
        lines = []
        if state == TicketState.waiting and ticket.service_date == hall.ctx.today():
            ahead = tickets.waiting_ahead(s, ticket)
            wait = estimates.wait_for(s, hall.ctx, group, ahead) if group else None
            lines.append(f'<p class="big" id="ahead">{ahead}</p><p style="text-align:center">您前面还有 {ahead} 人</p>')
            if wait is not None:
                lines.append(f'<p style="text-align:center">预计等候约 <b id="wait">{wait}</b> 分钟</p>')
        elif state in (TicketState.called, TicketState.serving):
            window = next((w for w in hall.ctx.profile.windows if w.id == ticket.window_id), None)
            where = window.name if window else ticket.window_id
            lines.append(f'<p class="big" id="window">请到{e(where)}</p>')
        item = hall.ctx.entry_name(ticket.item_code) if ticket.item_code else None
        body = (
            f'<div class="card"><h1>排队号码 <span id="number">{e(ticket.number)}</span></h1>'
            f'<p id="state" class="ok">{e(STATE_LABELS[state])}</p>'  # type: ignore[index]
            + "".join(lines)
            + "<dl>"
            + f"<dt>队列</dt><dd>{e(group.name if group else ticket.group_code)}</dd>"
            + (f"<dt>事项</dt><dd>{e(item)}</dd>" if item else "")
            + (f"<dt>取号人</dt><dd>{e(ticket.masked_name)}</dd>" if ticket.masked_name else "")
            + f"<dt>取号时间</dt><dd>{ticket.issued_at.astimezone(hall.ctx.calendar.zone):%m月%d日 %H:%M}</dd></dl>"
            + f'<p class="muted">本页每{REFRESH_S}秒自动刷新；过号请到咨询台。</p></div>'
        )
    live = state in (TicketState.waiting, TicketState.called, TicketState.serving)
    waiting = state == TicketState.waiting and ticket.service_date == hall.ctx.today()
    return page("排队进度", body + (link(token) if waiting else ""), name, refresh=REFRESH_S if live else None)


def _time_limit(statutory: int, promised: int) -> str:
    if promised == 0:
        return "即办（当场办结）"
    return f"法定{statutory}个工作日，承诺{promised}个工作日" if statutory else f"承诺{promised}个工作日"


def guide_page(hall: Hall, code: str) -> HTMLResponse:
    """The item's guide: conditions, materials, fee, time limit, where (windows), and the phone number."""
    ctx, name = hall.ctx, hall.ctx.profile.hall.name
    cat = ctx.catalog
    entry = cat.items.get(code) or cat.bundles.get(code)
    if entry is None:
        return error("办事指南", "没有找到这个事项，请核对二维码或咨询工作人员", name, 404)
    item = cat.items.get(code)
    bundle = cat.bundles.get(code)
    if item is not None:
        limit = _time_limit(item.time_limit.statutory_days, item.time_limit.promised_days)
    else:
        limit = _time_limit(0, bundle.promised_days if bundle else 0)
    materials = []
    for m in entry.materials:
        flags = ("可容缺" if m.rongque else None, "免提交（数据共享）" if m.data_shared else None)
        notes = [x for x in (m.condition, *flags) if x]
        extra = f'<br><span class="muted">{e("；".join(notes))}</span>' if notes else ""
        copies = f"{m.copies}份" if m.copies else "仅核验"
        materials.append(f"<li>{e(m.name)}（{e(m.kind.value)}，{copies}）{extra}</li>")
    conditions = "".join(f"<li>{e(c)}</li>" for c in (item.conditions if item else ()))
    where = entry.location
    group = ctx.group_for_entry(code)
    body = (
        f'<div class="card"><h1 id="item">{e(entry.name)}</h1><dl>'
        f'<dt>办理地点</dt><dd id="where">{e(where.floor)}{e(where.zone)} {e(where.windows)}</dd>'
        f"<dt>取号队列</dt><dd>{e(group.name)}</dd>"
        f'<dt>办理时限</dt><dd id="limit">{e(limit)}</dd>'
        f'<dt>收费</dt><dd id="fee">{e(item.fee.standard if item else "不收费")}</dd>'
        f"<dt>咨询电话</dt><dd>{e(entry.phone)}</dd></dl></div>"
        + (f'<div class="card"><h2>办理条件</h2><ul>{conditions}</ul></div>' if conditions else "")
        + f'<div class="card"><h2>申请材料</h2><ul id="materials">{"".join(materials)}</ul></div>'
    )
    return page("办事指南", body, name)
