"""Printing a window's paperwork (受理凭证, 一次性告知书) on the printer bound to that window (printer-wNN)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from firmware_config.devices import DeviceSet, bound_window
from hallserver.events import Effects, PrintOrder
from hallserver.presentation.paperwork import Paper


class Printers(Protocol):
    """Who knows the hall's printers and whether one can print now (the gateway, its handlers)."""

    devices: DeviceSet

    @property
    def printer_problem(self) -> Callable[[str], str | None]: ...


@dataclass(frozen=True)
class PrintOutcome:
    """What the console is told: the job sent, or why nothing was sent."""

    kind: str
    label: str
    visit_id: int
    printer: str | None
    job_id: str | None
    error: str | None


def window_printer(devices: DeviceSet | None, window_id: str) -> str | None:
    """The printer device bound to a window, if the hall has one."""
    if devices is None:
        return None
    return next((d.id for d in devices.devices if d.type == "printer" and bound_window(d) == window_id), None)


def order(printers: Printers | None, window_id: str, paper: Paper, effects: Effects) -> PrintOutcome:
    """Queue the document on the window's printer (sent after commit with the other effects), unless
    there is no bus, no printer, or the printer said it cannot print: then say why. The same for a
    window action from the console (REST) and from a window caller (bus)."""
    printer = window_printer(printers.devices if printers else None, window_id)
    error: str | None = None
    if printers is None:
        error = "消息总线未启用，无法打印"
    elif printer is None:
        error = f"{window_id} 没有配置窗口打印机"
    else:
        error = printers.printer_problem(printer)
    if error is not None:
        return PrintOutcome(paper.kind, paper.label, paper.visit_id, printer, None, _window_words(error))
    assert printer is not None
    job_id = str(uuid.uuid4())
    effects.prints.append(PrintOrder(printer, job_id, paper.kind, paper.document))
    return PrintOutcome(paper.kind, paper.label, paper.visit_id, printer, job_id, None)


def _window_words(problem: str) -> str:
    """The gateway's reasons are worded for kiosk users; at the window staff just need the cause."""
    return problem.split("，")[0]
