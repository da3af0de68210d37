"""/m/complaint: the complaint and 办不成事 form. A few lines of script post it as JSON to the public intake
(POST /api/v1/public/complaints) and show the reference and due date, or the intake's Chinese refusal."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from hallserver.mobile.hall import Hall
from hallserver.mobile.html import e, page

INTAKE = "/api/v1/public/complaints"

SCRIPT = """
"use strict";
document.getElementById("complaint").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target, out = document.getElementById("result"), err = document.getElementById("error");
  err.hidden = true;
  const body = {
    kind: f.kind.value, content: f.content.value.trim(), item_code: f.item_code.value || null,
    name: f.name.value.trim() || null, phone: f.phone.value.trim() || null, written_reply: f.written_reply.checked,
  };
  if (!body.content) { err.textContent = "请填写反映的内容"; err.hidden = false; return; }
  f.querySelector("button").disabled = true;
  try {
    const r = await fetch(f.dataset.intake, {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify(body)});
    const data = await r.json().catch(() => ({}));
    if (!r.ok) { throw new Error((data.error && data.error.message) || data.message || "提交失败，请稍后再试"); }
    f.hidden = true;
    document.getElementById("reference").textContent = data.reference || "";
    document.getElementById("due").textContent = data.due || "";
    document.getElementById("message").textContent = data.message || "";
    out.hidden = false;
  } catch (x) {
    err.textContent = x.message || "提交失败，请稍后再试"; err.hidden = false;
  } finally { f.querySelector("button").disabled = false; }
});
"""


def complaint_page(hall: Hall) -> HTMLResponse:
    """The form; the hall's items to choose from (optional)."""
    cat = hall.ctx.catalog
    entries = [(code, item.name) for code, item in cat.items.items()]
    entries += [(code, bundle.name) for code, bundle in cat.bundles.items()]
    options = '<option value="">（不涉及具体事项）</option>' + "".join(
        f'<option value="{e(code)}">{e(name)}</option>' for code, name in entries
    )
    body = (
        f'<div class="card"><h1>投诉与“办不成事”反映</h1>'
        '<div class="err" id="error" hidden></div>'
        f'<form id="complaint" data-intake="{e(INTAKE)}">'
        '<label for="kind">类型</label><select id="kind" name="kind">'
        '<option value="complaint">投诉</option><option value="cannot_do">办不成事</option></select>'
        f'<label for="item_code">涉及事项（选填）</label><select id="item_code" name="item_code">{options}</select>'
        '<label for="content">反映内容</label><textarea id="content" name="content" maxlength="1000"></textarea>'
        '<label for="name">姓名（选填）</label><input type="text" id="name" name="name" maxlength="20">'
        '<label for="phone">联系电话（选填，便于回复）</label>'
        '<input type="tel" id="phone" name="phone" maxlength="20">'
        '<div class="check"><label><input type="checkbox" id="written_reply" name="written_reply">'
        "需要书面答复</label></div>"
        '<button type="submit" id="send">提交</button></form>'
        '<div id="result" hidden><p class="ok">已收到您的反映</p><dl>'
        '<dt>受理编号</dt><dd id="reference"></dd><dt>答复期限</dt><dd id="due"></dd></dl>'
        '<p id="message"></p></div>'
        '<p class="muted">您的姓名和电话只用于回复，不会公开。</p></div>'
        '<script src="/m/static/complaint.js"></script>'
    )
    return page("投诉反映", body, hall.ctx.profile.hall.name)


def complaint_script() -> Response:
    """The form's script (served from /m/, so the page's policy allows no inline script)."""
    return Response(SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})
