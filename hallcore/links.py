"""The citizen's links printed as QR codes and sent by SMS: the phone pages under /m/ (never the JSON API).
The one place these paths are built, for the server, the kiosk and the printers."""

from __future__ import annotations

from urllib.parse import quote, urlencode

MOBILE = "/m"


def guide_path(code: str) -> str:
    """An item's guide (办事指南) for a phone."""
    return f"{MOBILE}/guide/{quote(code, safe='')}"


def ticket_path(token: str) -> str:
    """A ticket's live position (排队进度), by the slip's unguessable token."""
    return f"{MOBILE}/t/{quote(token, safe='')}"


def rating_path(token: str) -> str:
    """A finished visit's one-time rating link (服务评价)."""
    return f"{MOBILE}/rate/{quote(token, safe='.')}"


def case_path(serial_no: str | None = None, query_code: str | None = None) -> str:
    """The case progress page (办件进度: serial number + 查询码); with both, it opens on the case."""
    if serial_no and query_code:
        return f"{MOBILE}/case?{urlencode({'serial': serial_no, 'code': query_code})}"
    return f"{MOBILE}/case"


def complaint_path() -> str:
    """The complaint and 办不成事 form."""
    return f"{MOBILE}/complaint"


def absolute(base_url: str | None, path: str) -> str:
    """The full link on `base_url` (relative when the server's public URL is unknown)."""
    return f"{(base_url or '').rstrip('/')}{path}"
