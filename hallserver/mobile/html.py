"""The phone pages' frame: one small stylesheet, large text, every value HTML-escaped."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;font-size:20px;line-height:1.6;
color:#1f2a37;background:#f3f6fa;overflow-wrap:anywhere}
header{background:#b3261e;color:#fff;padding:14px 18px;font-size:22px;font-weight:bold}
main{padding:14px}
.card{background:#fff;border-radius:12px;padding:16px;margin-bottom:14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:28px;margin:0 0 10px}
h2{font-size:22px;margin:0 0 8px}
.big{font-size:56px;font-weight:bold;color:#b3261e;text-align:center;margin:6px 0}
.muted{color:#5b6675;font-size:18px}
.ok{color:#1b7f3b;font-weight:bold}
.err{background:#fdecea;color:#8a1c13;border-radius:10px;padding:12px 14px;margin-bottom:14px;font-size:20px}
ul{padding-left:22px;margin:6px 0}
li{margin:4px 0}
dl{margin:0}dt{color:#5b6675;font-size:18px}dd{margin:0 0 8px;font-size:21px}
label{display:block;font-size:20px;margin:10px 0 4px}
input[type=text],input[type=tel],textarea,select{width:100%;font-size:22px;padding:10px;border:1px solid #9aa5b1;
border-radius:8px}
textarea{min-height:120px}
button,.btn{display:block;width:100%;font-size:24px;padding:14px;margin-top:16px;border:0;border-radius:10px;
background:#b3261e;color:#fff;text-align:center;text-decoration:none}
.levels label{display:flex;align-items:center;gap:10px;font-size:24px;padding:10px;border:1px solid #d0d7de;
border-radius:10px;margin:8px 0;background:#fff}
.levels input{width:26px;height:26px}
.check label{display:flex;align-items:center;gap:8px;margin:6px 0}
.check input{width:24px;height:24px}
table{width:100%;border-collapse:collapse;font-size:19px}td{padding:6px 4px;border-bottom:1px solid #e5e9ef}
"""


def e(value: object) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, hall: str, status: int = 200, refresh: int | None = None) -> HTMLResponse:
    """A complete phone page; `body` is already-escaped HTML built by the caller."""
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{meta}<title>{e(title)} - {e(hall)}</title><style>{CSS}</style></head>"
        f"<body><header>{e(hall)}</header><main>{body}</main></body></html>"
    )
    headers = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


def error(title: str, message: str, hall: str, status: int) -> HTMLResponse:
    """A refusal in Chinese, nothing more."""
    return page(title, f'<h1>{e(title)}</h1><div class="err">{e(message)}</div>', hall, status)
