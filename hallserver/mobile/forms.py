"""Reading a small urlencoded form without extra dependencies: bounded size, one value per field."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

MAX_FORM_BYTES = 8192


async def read_form(request: Request) -> dict[str, str] | None:
    """The form's fields (first value each, stripped), or None when the body is too large or not a form."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0].strip() for k, v in fields.items()}
