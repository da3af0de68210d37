"""/m/rate/{token}: the one-time rating link of a finished visit (sent in the rating invitation). It shows the
window, the masked staff name and the item, then five levels; a 1–2 star rating needs a reason. The rating
goes through services.evaluations with the link as its proof, so a 差评 opens a rectification as before."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from hallcore.errors import HallError
from hallserver.mobile.hall import Hall
from hallserver.mobile.html import e, error, page
from hallserver.services import evaluations, rating_proof
from hallserver.services.rating_proof import Proof, RatingTarget

LEVELS = ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"))
REASONS = {"attitude": "服务态度不好", "efficiency": "办事效率低、等候时间长", "skill": "业务不熟练、解释不清"}


def _target_html(t: RatingTarget) -> str:
    return (
        f'<div class="card"><h1>服务评价</h1><dl id="target">'
        f"<dt>办理事项</dt><dd>{e(t.item_name or '—')}</dd>"
        f"<dt>服务窗口</dt><dd>{e(t.window_name)}</dd>"
        f"<dt>工作人员</dt><dd>{e(t.staff or '—')}</dd>"
        f"<dt>排队号码</dt><dd>{e(t.ticket)}（{t.ended_at:%m月%d日 %H:%M}办结）</dd></dl></div>"
    )


def _form(token: str, t: RatingTarget, message: str | None = None) -> str:
    err = f'<div class="err" id="error">{e(message)}</div>' if message else ""
    levels = "".join(
        f'<label><input type="radio" name="level" value="{v}" id="level-{v}">{e(text)}</label>' for v, text in LEVELS
    )
    reasons = "".join(
        f'<label><input type="checkbox" name="r_{k}" value="1" id="reason-{k}">{e(text)}</label>'
        for k, text in REASONS.items()
    )
    return (
        _target_html(t) + f'<div class="card">{err}<form method="post" action="/m/rate/{e(token)}">'
        f'<h2>您对本次服务满意吗？</h2><div class="levels">{levels}</div>'
        f'<h2>不满意的原因（选“不满意”“非常不满意”时必选）</h2><div class="check">{reasons}</div>'
        '<label for="comment">意见建议（选填）</label>'
        '<textarea id="comment" name="comment" maxlength="500"></textarea>'
        '<button type="submit" id="submit">提交评价</button></form>'
        '<p class="muted">每次办事只能评价一次。差评将由相关部门在规定时间内回访整改。</p></div>'
    )


def _visit(hall: Hall, token: str) -> tuple[RatingTarget | None, HTMLResponse | None]:
    name = hall.ctx.profile.hall.name
    with hall.tx() as s:
        try:
            visit = rating_proof.visit_of_token(s, hall.ctx, token)
        except HallError as exc:
            return None, error("服务评价", exc.message, name, 410 if exc.code == "expired" else 404)
        found = rating_proof.target(hall.ctx, visit)
    if found.rated:
        return None, error("服务评价", "这次办事已经评价过了，感谢您的反馈", name, 410)
    return found, None


def rate_form(hall: Hall, token: str) -> HTMLResponse:
    """The visit and the five levels, or why the link cannot be used."""
    found, refusal = _visit(hall, token)
    if refusal is not None or found is None:
        return refusal  # type: ignore[return-value]
    return page("服务评价", _form(token, found), hall.ctx.profile.hall.name)


def rate_submit(hall: Hall, token: str, fields: dict[str, str] | None) -> HTMLResponse:
    """Record the rating once; a bad rating without a reason is sent back with the form."""
    name = hall.ctx.profile.hall.name
    found, refusal = _visit(hall, token)
    if refusal is not None or found is None:
        return refusal  # type: ignore[return-value]
    fields = fields or {}
    level_text = fields.get("level", "")
    if level_text not in {"1", "2", "3", "4", "5"}:
        return page("服务评价", _form(token, found, "请选择一个满意程度"), name, 400)
    level = int(level_text)
    reasons = [k for k in REASONS if fields.get(f"r_{k}")]
    if level <= 2 and not reasons:
        return page("服务评价", _form(token, found, "请选择不满意的原因"), name, 400)
    comment = fields.get("comment", "")[:500]
    if reasons:
        comment = "；".join(["差评原因：" + "、".join(REASONS[k] for k in reasons), comment]).strip("；")
    indicators = {k: level for k in reasons} if level <= 2 else None
    try:
        with hall.tx() as s:
            evaluation, _case = evaluations.submit(
                s,
                hall.ctx,
                level,
                "qr",
                visit_id=found.visit_id,
                indicators=indicators,
                comment=comment or None,
                proof=Proof(token=token),
            )
            bad = evaluation.is_bad
    except HallError as exc:
        return error("服务评价", exc.message, name, 409 if exc.code == "already_rated" else 400)
    follow = "我们将在规定时间内回访整改，感谢您的监督" if bad else "感谢您的评价，欢迎再次光临"
    return page("服务评价", f'<div class="card"><h1 id="done">评价已提交</h1><p>{e(follow)}</p></div>', name)
