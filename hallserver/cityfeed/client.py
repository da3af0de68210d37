"""The hall's HTTP client for the city API: its per-hall token, the city's CA, a bounded timeout.

Standard library only (urllib + ssl), so the hall server gains no dependency for its city link."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_config.hall import HallProfile

TOKEN_FILE = Path("city") / "api.token"  # under the hall's secret folder, written by the city's provisioning
TIMEOUT_S = 5.0


class CityUnreachable(RuntimeError):
    """The city API did not answer (network, TLS, timeout, 5xx): the hall carries on without it."""


class CityRefused(RuntimeError):
    """The city API answered with a 4xx: a configuration problem (token, URL), not a passing outage."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass(frozen=True)
class Answer:
    """One city API answer: status, ETag and JSON body (None on 304)."""

    status: int
    etag: str | None
    body: Any


@dataclass(frozen=True)
class CityApi:
    """Where the city API is and how this hall logs in to it."""

    base_url: str
    token: str
    ca_file: Path | None = None
    timeout_s: float = TIMEOUT_S

    @classmethod
    def for_hall(cls, profile: HallProfile, hall_dir: Path, secret_dir: Path) -> CityApi | None:
        """The hall's city API from its profile's `city:` section and its token file; None when not linked."""
        link = profile.city
        if link is None or not link.api_url:
            return None
        token_path = secret_dir / TOKEN_FILE
        try:
            token = token_path.read_text(encoding="ascii").strip()
        except OSError:
            token = ""  # every call is then refused (401) and reported; the hall keeps serving
        ca = link.ca_file
        if ca is not None and not ca.is_absolute():
            ca = hall_dir / ca
        return cls(link.api_url.rstrip("/"), token, ca if link.tls else None)

    def _context(self) -> ssl.SSLContext | None:
        if not self.base_url.startswith("https://"):
            return None
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def get(self, path: str, params: dict[str, str] | None = None, etag: str | None = None) -> Answer:
        """GET a JSON resource; 304 comes back as Answer(304, etag, None)."""
        url = f"{self.base_url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        request = urllib.request.Request(url, headers=self._headers())
        if etag:
            request.add_header("If-None-Match", etag)
        return self._call(request, etag)

    def post(self, path: str, body: dict[str, Any]) -> Answer:
        """POST a JSON body (lookups whose key must not appear in a URL or an access log)."""
        data = json.dumps(body).encode("utf-8")
        headers = {**self._headers(), "Content-Type": "application/json"}
        return self._call(urllib.request.Request(f"{self.base_url}{path}", data=data, headers=headers, method="POST"))

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def _call(self, request: urllib.request.Request, etag: str | None = None) -> Answer:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s, context=self._context()) as response:
                return Answer(response.status, response.headers.get("ETag"), json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return Answer(304, exc.headers.get("ETag") or etag, None)
            message = _message(exc)
            if exc.code >= 500:
                raise CityUnreachable(f"HTTP {exc.code}: {message}") from None
            raise CityRefused(exc.code, message) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, reset, timeout, TLS, bad JSON
            raise CityUnreachable(f"{type(exc).__name__}: {exc}") from None


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read())
        return str(body.get("error", {}).get("message") or body.get("detail") or body)[:200]
    except (ValueError, OSError, AttributeError):
        return exc.reason if isinstance(exc.reason, str) else str(exc.code)
