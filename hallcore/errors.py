"""Service errors: a stable code for machines and a Chinese message for people."""

from __future__ import annotations

from typing import Any


class HallError(Exception):
    """A refused request. `code` is part of the public contract (REST and PROTOCOL.md)."""

    http_status = 400

    def __init__(self, code: str, message: str, /, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class NotFound(HallError):
    """Something named in the request does not exist."""

    http_status = 404

    def __init__(self, message: str, /, **data: Any) -> None:
        super().__init__("not_found", message, **data)


class Conflict(HallError):
    """The request is well-formed but the current state forbids it."""

    http_status = 409
