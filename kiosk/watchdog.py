"""A dependency-free systemd notifier: readiness, watchdog pings and stopping, for Type=notify units."""

from __future__ import annotations

import os
import socket


def _address() -> str | None:
    """The notify socket address from $NOTIFY_SOCKET, '@' mapped to the abstract namespace."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        return "\0" + address[1:]
    # vsock addresses (vsock:CID:PORT) exist for VMs; hall boards never use them.
    return address if address.startswith("/") else None


def sd_notify(state: str) -> bool:
    """Send a state string (e.g. 'READY=1') to systemd; False when not under systemd or on failure."""
    address = _address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
    except OSError:
        return False
    return True


def ready(status: str | None = None) -> bool:
    """Tell systemd the device app has started (and optionally what it shows)."""
    return sd_notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def status(text: str) -> bool:
    """Free-text status shown by `systemctl status`."""
    return sd_notify(f"STATUS={text}")


def watchdog_ping() -> bool:
    """Keep-alive for WatchdogSec=: call at least every watchdog_interval() / 2 seconds."""
    return sd_notify("WATCHDOG=1")


def stopping() -> bool:
    """Tell systemd the app is shutting down on purpose."""
    return sd_notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """The watchdog timeout in seconds from $WATCHDOG_USEC, or None when no watchdog is meant for us."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # the variables were inherited from a parent the watchdog is meant for
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None
