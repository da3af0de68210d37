"""A line-based control socket for the ID card simulator, so a person or a demo kiosk can "swipe a card":
`insert <key>`, `remove`, `fault <kind>` (`fault none` clears), `list`, `status`. Every command gets one
reply line starting with `ok` or `error`. Loopback only by default: it is a test tool."""

from __future__ import annotations

import contextlib
import logging
import socketserver
import threading
from typing import Self

from kiosk.idcard.simulator import FAULTS, IdCardSimulator

log = logging.getLogger("hallq.idcard.control")
HELP = "commands: insert <key> | remove | fault <kind>|none | list | status"


def handle_command(sim: IdCardSimulator, line: str) -> str:
    """Run one control command; the reply line (without newline)."""
    words = line.split()
    if not words:
        return f"error empty command; {HELP}"
    verb, args = words[0].lower(), words[1:]
    try:
        if verb == "insert" and len(args) == 1:
            sim.insert(args[0])
            return f"ok inserted {args[0]}"
        if verb == "remove" and not args:
            sim.remove()
            return "ok removed"
        if verb == "fault" and len(args) == 1:
            sim.fault(args[0])
            return f"ok fault {args[0]}"
        if verb == "list" and not args:
            return "ok " + " ".join(sim.identities)
        if verb == "status" and not args:
            return f"ok card={sim.card or '-'} faults={','.join(sorted(sim.faults)) or '-'}"
    except (KeyError, ValueError) as exc:
        return f"error {exc.args[0] if exc.args else exc}"
    return f"error unknown command {line.strip()!r}; {HELP}; faults: {', '.join(FAULTS)}"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        sim: IdCardSimulator = self.server.sim  # type: ignore[attr-defined]
        for raw in self.rfile:
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                self.wfile.write((handle_command(sim, line) + "\n").encode("utf-8"))


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class ControlServer:
    """Serves control commands for a simulator on host:port (0 picks a free port)."""

    def __init__(self, sim: IdCardSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.sim = sim  # type: ignore[attr-defined]
        address = self._server.server_address
        self.host, self.port = str(address[0]), int(address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,), daemon=True)

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        log.info("ID card simulator control on %s:%s", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=2)
        with contextlib.suppress(OSError):
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
