"""Cross-hall progress, the hall's side: ask the city for cases accepted at other halls, by serial number or
by the applicant's identity hash under the city's key (the ID number itself never leaves the hall).

The query runs inside a kiosk or phone request, so it is bounded twice: a short timeout per call, and after a
failure the city is not asked again for `PAUSE_S` (every query then answers at once with the clear message),
so a city outage never stalls the hall's request handling."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from hallcore.identity import identity_hash
from hallserver.cityfeed.client import CityApi, CityRefused, CityUnreachable
from hallserver.services.case_progress import CityDown, Progress
from hallserver.services.context import HallContext

log = logging.getLogger("hallq.cityfeed")
TIMEOUT_S = 2.0
PAUSE_S = 30.0


class CityCases:
    """The city's cases for one hall (registered with case_progress.set_remote)."""

    def __init__(self, ctx: HallContext, api: CityApi, city_key: bytes | None) -> None:
        self.ctx = ctx
        self.api = replace(api, timeout_s=min(api.timeout_s, TIMEOUT_S))
        self.city_key = city_key
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def by_serial(self, serial_no: str) -> list[Progress]:
        """The case with this serial anywhere in the city ([] when there is none)."""
        body = self._ask(lambda: self.api.get(f"/api/v1/cases/{serial_no}").body, none_on_404=True)
        return [self._progress(body)] if body else []

    def by_identity(self, id_number: str) -> list[Progress]:
        """The applicant's cases anywhere in the city (the hash under the city's key travels, never the ID)."""
        if self.city_key is None:  # the city has not provisioned its identity key: nothing to ask with
            return []
        digest = identity_hash(self.city_key, id_number)
        rows = self._ask(lambda: self.api.post("/api/v1/cases/lookup", {"person_hash": digest}).body)
        return [self._progress(row) for row in rows or []]

    def _ask(self, call: Any, none_on_404: bool = False) -> Any:
        with self._lock:
            if time.monotonic() < self._paused_until:
                raise CityDown("the city was unreachable moments ago; not asking again yet")
        try:
            return call()
        except CityRefused as exc:
            if none_on_404 and exc.status == 404:
                return None
            self._pause()
            raise CityDown(str(exc)) from None
        except CityUnreachable as exc:
            self._pause()
            raise CityDown(str(exc)) from None

    def _pause(self) -> None:
        with self._lock:
            self._paused_until = time.monotonic() + PAUSE_S

    def _progress(self, row: dict[str, Any]) -> Progress:
        zone = self.ctx.calendar.zone
        promised = date.fromisoformat(row["promised_date"])
        return Progress(
            serial_no=row["serial_no"],
            item_name=f"{row['item_name']}（{row['hall_name']}受理）",
            status=row["status"],
            promised_date=promised,
            delivery=row.get("delivery") or "",
            accepted_at=datetime.fromisoformat(row["accepted_at"]).astimezone(zone),
            overdue=row.get("decided_at") is None and self.ctx.today() > promised,
            history=[
                {
                    "at": datetime.fromisoformat(h["at"]).astimezone(zone).isoformat(),
                    "status": h["status"],
                    "note": None,
                }
                for h in row.get("history", [])
            ],
        )
