"""Demo control of a running cabinet's simulated board, the hands around it: `put <door>` (staff load a
compartment), `take <door>` (a citizen empties an open one), `shut <door>`, `fault <kind>` / `fault none`,
`status`. Served on var/cabinet/<device>.sock (0600); `hallq cabinet-sim --device pickup-cabinet-01 take 3`
is the client."""

from __future__ import annotations

import os
from pathlib import Path

from firmware_config.paths import VAR_DIR
from kiosk.cabinet.simulator import FAULTS, CabinetBoardSimulator

SOCKET_DIR_ENV = "HALLQ_CABINET_SOCKET_DIR"
HELP = "commands: put <door> | take <door> | shut <door> | fault <kind>|none | status"


def board_socket_dir() -> Path:
    """$HALLQ_CABINET_SOCKET_DIR, else var/cabinet."""
    return Path(os.environ.get(SOCKET_DIR_ENV) or VAR_DIR / "cabinet")


def board_command(sim: CabinetBoardSimulator, line: str) -> str:
    """Run one command; the reply line."""
    words = line.split()
    verb, args = (words[0].lower(), words[1:]) if words else ("", [])
    try:
        if verb in ("put", "take", "shut") and len(args) == 1 and args[0].isdigit():
            door = int(args[0])
            if door not in sim.doors:
                return f"error no door {door} (1–{len(sim.doors)})"
            getattr(sim, verb)(door)
            return f"ok {verb} {door}"
        if verb == "fault" and len(args) == 1:
            if args[0] == "none":
                for kind in FAULTS:
                    sim.fault(kind, on=False)
            else:
                sim.fault(args[0])
            return f"ok fault {args[0]}"
        if verb == "status" and not args:
            opened = [d for d in sim.doors if sim.state(d)[0]]
            full = [d for d in sim.doors if sim.state(d)[1]]
            return f"ok open={','.join(map(str, opened)) or '-'} occupied={','.join(map(str, full)) or '-'}"
    except ValueError as exc:
        return f"error {exc}"
    return f"error unknown command {line.strip()!r}; {HELP}"
