"""Real-time printer status (DLE EOT n): the queries, their answers parsed, and the bus status message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from broker.messages import DeviceStatus

Paper = Literal["ok", "near_end", "out"]
Cover = Literal["closed", "open"]
QUERIES = (1, 2, 4)  # printer status, offline cause, paper roll sensor
NO_ANSWER_REASON = "打印机无响应（离线或未通电）"
OFFLINE_REASON = "打印机离线"


def query(n: int) -> bytes:
    """The DLE EOT n request (`10 04 n`)."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT takes n = 1..4, not {n}")
    return bytes((0x10, 0x04, n))


def well_formed(answer: int) -> bool:
    """Every status byte has bit 0 and bit 7 clear and bits 1 and 4 set."""
    return answer & 0x93 == 0x12


class PrinterStatus(DeviceStatus):
    """`device/{device}/status` of a printer: DeviceStatus plus `offline` when the printer does not answer
    or is offline for no other reason shown (a compatible addition to contract v1)."""

    offline: bool = False


@dataclass(frozen=True)
class PrinterState:
    """What the printer said: paper, cover, error and offline flags; `responding` False for no answer."""

    responding: bool = True
    offline: bool = False
    paper: Paper | None = "ok"
    cover: Cover | None = "closed"
    error: bool = False
    queryable: bool = True  # False for a connection that cannot answer (a file): assumed ready

    @property
    def can_print(self) -> bool:
        """True when a job may be sent (paper near its end still prints)."""
        return (
            self.responding and not self.offline and not self.error and self.paper != "out" and (self.cover != "open")
        )

    @property
    def reason(self) -> str | None:
        """Why nothing can be printed, in Chinese for the kiosk, window and managers; None when ready."""
        if not self.responding:
            return NO_ANSWER_REASON
        if self.paper == "out":
            return "打印机缺纸"
        if self.cover == "open":
            return "打印机纸仓盖未关"
        if self.error:
            return "打印机故障"
        if self.offline:
            return OFFLINE_REASON
        return None

    def message(self, ts: datetime) -> PrinterStatus:
        """The status payload for the bus."""
        return PrinterStatus(
            ts=ts,
            ok=self.can_print,
            paper=self.paper if self.queryable else None,
            cover=self.cover if self.queryable else None,
            error=self.reason,
            offline=self.reason in (NO_ANSWER_REASON, OFFLINE_REASON),
        )


NO_ANSWER = PrinterState(responding=False, paper=None, cover=None)
UNKNOWN = PrinterState(queryable=False, paper=None, cover=None)


def parse(answers: Mapping[int, int | None]) -> PrinterState:
    """The state from the answers to DLE EOT 1, 2 and 4 (a missing answer means the printer is silent).

    n=1: bit 3 offline. n=2: bit 2 cover open, bit 5 stopped at paper end, bit 6 error.
    n=4: bits 2–3 paper near end, bits 5–6 paper out. A malformed byte counts as an error."""
    values = [answers.get(n) for n in QUERIES]
    if any(value is None for value in values):
        return NO_ANSWER
    printer, cause, roll = (int(v) for v in values)  # type: ignore[arg-type]
    if not all(well_formed(v) for v in (printer, cause, roll)):
        return PrinterState(error=True)
    paper: Paper = "ok"
    if roll & 0x60 or cause & 0x20:
        paper = "out"
    elif roll & 0x0C:
        paper = "near_end"
    return PrinterState(
        offline=bool(printer & 0x08),
        paper=paper,
        cover="open" if cause & 0x04 else "closed",
        error=bool(cause & 0x40),
    )


def answers_for(state: PrinterState) -> dict[int, int]:
    """The status bytes a printer in this state answers (the simulator's side of `parse`)."""
    paper_out = state.paper == "out"
    stopped = paper_out or state.cover == "open" or state.error or state.offline
    printer = 0x12 | (0x08 if stopped else 0)
    cause = 0x12 | (0x04 if state.cover == "open" else 0) | (0x20 if paper_out else 0)
    cause |= 0x40 if state.error else 0
    roll = 0x12 | (0x6C if paper_out else 0x0C if state.paper == "near_end" else 0)
    return {1: printer, 2: cause, 3: 0x12, 4: roll}
