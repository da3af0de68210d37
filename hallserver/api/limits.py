"""Request-body size limit as pure ASGI middleware: it counts the bytes as they arrive, so a chunked body
without Content-Length is cut off too, and nothing past the limit is ever parsed."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hallserver.api.schemas import ErrorEnvelope, ErrorOut

MAX_BODY_BYTES = 1 << 20  # 1 MiB: the largest real body (a finish with 50 materials) is a few KiB


def error_response(status: int, code: str, message: str, data: dict[str, Any] | None = None) -> JSONResponse:
    """An error in the API's one envelope: {"error": {"code", "message", "data"}}."""
    body = ErrorEnvelope(error=ErrorOut(code=code, message=message, data=data or {}))
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


def too_large(limit: int) -> JSONResponse:
    """413 for a body over the limit."""
    return error_response(413, "too_large", f"请求内容过大（上限 {limit // 1024} KB）", {"max_bytes": limit})


class BodySizeLimit:
    """Answer 413 when a request body is, or turns out to be, larger than `max_bytes`.

    A declared Content-Length over the limit is refused before the app runs. Otherwise the app's `receive`
    is counted: the chunk that crosses the limit is not passed on — the app sees the client disconnect —
    and the 413 replaces whatever the app would have answered."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large(self.max_bytes)(scope, receive, send)
            return

        received = 0
        exceeded = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded and not response_started:
                return  # the app's answer to a truncated body is dropped: the 413 goes out instead
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
            # The app gave up reading a body that stopped at the limit (a client disconnect to it): expected.
        if exceeded and not response_started:
            await too_large(self.max_bytes)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
