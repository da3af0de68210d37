"""预约办事 at the kiosk: a bookable item, a day, a slot with free seats, the ID card; the booking code is
shown and printed. The bus actions appointment.slots and appointment.book run the server's booking service.
A mixin of KioskFlows; no Kivy here."""

from __future__ import annotations

from typing import Any

from kiosk.terminal.flowhost import FlowHost


class BookingFlows(FlowHost):
    """Booking for later days (uses the session and _call of KioskFlows)."""

    def booking_slots(self, day: str | None) -> None:
        """appointment.slots: the bookable days of the chosen item and the slots of one day (default the first
        day that has a free seat)."""
        code = self.state.item_code
        if code is None:
            return
        self.session.touch()
        params: dict[str, Any] = {"item_code": code}
        if day:
            params["day"] = day  # the contract's field (appointment.slots); "date" was silently ignored
        self._call(
            "正在查询可预约时段…",
            "appointment.slots",
            params,
            lambda data: self.session.go("slots", result=data, day=data.get("date"), item_code=code),
        )

    def book(self, slot_start: str) -> None:
        """appointment.book for the person whose card was read: the code comes back, and is printed."""
        s = self.state
        identity = self.identity_params()
        if s.item_code is None or identity is None:
            self.session.update(error="请先刷身份证再预约")
            return
        self.session.touch()
        params = {"item_code": s.item_code, "slot_start": slot_start, "identity": identity}
        self._call(
            "正在预约，请稍候…",
            "appointment.book",
            params,
            lambda data: self.session.go("booked", result=data, notice=data.get("print_error")),
        )
