"""A line-based control socket for the ID card simulator, so a person or a demo kiosk can "swipe a card":
`insert <key>`, `remove`, `fault <kind>` (`fault none` clears), `list`, `status`. Every command gets one
reply line starting with `ok` or `error`. Loopback only by default: it is a test tool.

A demo kiosk's in-process simulator also listens on a Unix socket named for its device,
`var/idcard/<device>.sock` (0600: only the user running the demo may swipe cards), which `hallq idcard-sim
--device kiosk-01 insert resident` finds by the device id."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from firmware_config.paths import VAR_DIR
from kiosk.idcard.simulator import FAULTS, IdCardSimulator

log = logging.getLogger("hallq.idcard.control")
HELP = "commands: insert <key> | remove | fault <kind>|none | list | status"
SOCKET_DIR_ENV = "HALLQ_IDCARD_SOCKET_DIR"
DEVICE = re.compile(r"^[a-z][a-z0-9\-]{1,40}$")  # firmware_config.devices.DEVICE_ID
MAX_LINE = 256


def socket_dir() -> Path:
    """Where demo kiosks put their readers' control sockets: $HALLQ_IDCARD_SOCKET_DIR, else var/idcard."""
    return Path(os.environ.get(SOCKET_DIR_ENV) or VAR_DIR / "idcard")


def socket_path(device: str, folder: Path | None = None) -> Path:
    """The control socket of one kiosk's simulated reader."""
    if not DEVICE.fullmatch(device):
        raise ValueError(f"设备编号格式不正确：{device!r}")
    return (folder or socket_dir()) / f"{device}.sock"


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
        answer: Callable[[str], str] = getattr(self.server, "answer", None) or (lambda line: handle_command(sim, line))
        while raw := self.rfile.readline(MAX_LINE + 1):
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                self.wfile.write(b"error line too long\n")
                return
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                self.wfile.write((answer(line) + "\n").encode("utf-8"))


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


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


class DeviceControl:
    """The control socket of one kiosk's simulated reader, at socket_path(device). A socket left behind by a
    kiosk that died is replaced; one a live kiosk still answers on is not taken over (OSError)."""

    def __init__(
        self, sim: Any, device: str, folder: Path | None = None, answer: Callable[[str], str] | None = None
    ) -> None:
        self.path = socket_path(device, folder)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            if _answers(self.path):
                raise OSError(f"{self.path} is in use by another running kiosk {device}")
            self.path.unlink()
        old = os.umask(0o177)  # the socket is created 0600
        try:
            self._server = _UnixServer(str(self.path), _Handler)
        finally:
            os.umask(old)
        self._server.sim = sim  # type: ignore[attr-defined]
        self._server.answer = answer  # type: ignore[attr-defined]  # another simulator's commands
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,), daemon=True)

    def start(self) -> Self:
        """Serve in a background thread."""
        self._thread.start()
        log.info("simulator control on %s", self.path)
        return self

    def stop(self) -> None:
        """Stop serving and remove the socket file."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=2)
        with contextlib.suppress(OSError):
            self._server.server_close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


class DeviceLine:
    """A client of one kiosk's control socket: one command line, one reply line."""

    def __init__(self, device: str, folder: Path | None = None, timeout_s: float = 5.0) -> None:
        self.path = socket_path(device, folder)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout_s)
        try:
            self.sock.connect(str(self.path))
        except OSError:
            self.sock.close()
            raise
        self.file = self.sock.makefile("rw", encoding="utf-8", newline="\n")

    def ask(self, command: str) -> str:
        """Send one command; its reply line."""
        self.file.write(command.replace("\n", " ") + "\n")
        self.file.flush()
        reply = self.file.readline().strip()
        if not reply:
            raise OSError("the kiosk closed the control connection")
        return reply

    def close(self) -> None:
        """Close the connection."""
        with contextlib.suppress(OSError):
            self.file.close()
        self.sock.close()


def running_devices(folder: Path | None = None) -> list[str]:
    """Device ids of kiosks whose simulated reader answers on a control socket now."""
    base = folder or socket_dir()
    return sorted(p.stem for p in base.glob("*.sock") if _answers(p)) if base.is_dir() else []
