"""The real hall server (app + bus gateway) in its own process for bench.load, on a clock the bench moves.

Runs create_app() inside its lifespan (TestClient, no HTTP port: the bench talks over the bus only) and
reads commands on stdin, one per line, answering one line on stdout:
    clock <iso-instant> <speed>   the hall clock jumps to the instant and runs `speed`× real time, then the
                                  server's housekeeping runs once, as after midnight (yesterday's leftover
                                  tickets expire now, not in the middle of a measurement) → ok
    drain                         wait until the gateway's queue is empty → ok
    quit                          stop the gateway and exit

    python -m bench.live_server --db URL --hall-dir DIR --secret-dir DIR --broker-port N --start ISO
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from hallserver.app import create_app
from hallserver.housekeeping import Housekeeper
from hallserver.settings import Settings


class BenchClock:
    """Hall time = a settable instant + speed × real seconds since it was set."""

    def __init__(self, start: datetime) -> None:
        self._lock = threading.Lock()
        self._anchor, self._real, self._speed = start, time.perf_counter(), 1.0

    def now(self) -> datetime:
        """The current hall time."""
        with self._lock:
            return self._anchor + timedelta(seconds=(time.perf_counter() - self._real) * self._speed)

    def set(self, instant: datetime, speed: float) -> None:
        """Jump to an instant and run at a speed from there."""
        with self._lock:
            self._anchor, self._real, self._speed = instant, time.perf_counter(), speed


def main() -> None:
    """Serve until `quit` or end of input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--hall-dir", type=Path, required=True)
    parser.add_argument("--secret-dir", type=Path, required=True)
    parser.add_argument("--broker-host", default="127.0.0.1")
    parser.add_argument("--broker-port", type=int, required=True)
    parser.add_argument("--start", required=True, help="hall time to start at (ISO 8601 with offset)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    clock = BenchClock(datetime.fromisoformat(args.start))
    settings = Settings(
        database_url=args.db,
        hall_dir=args.hall_dir,
        identity_key="b" * 32,
        secret_dir=args.secret_dir,
        broker_host=args.broker_host,
        broker_port=args.broker_port,
        public_url="http://hall.bench:8000",
        housekeeping_s=3600,  # the bench runs it itself after each day change (see `clock`)
    )
    with TestClient(create_app(settings, clock)) as http:
        hall = http.app.state.hall  # type: ignore[attr-defined]
        gateway = hall.gateway
        housekeeper = Housekeeper(hall.ctx, hall.engine, 3600)
        if not gateway.client.wait_connected(15):
            print("error gateway not connected", flush=True)
            return
        gateway.drain()
        print("ready", flush=True)
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "clock":
                clock.set(datetime.fromisoformat(words[1]), float(words[2]))
                housekeeper.run_once()
            elif words[0] == "drain":
                gateway.drain(120)
            elif words[0] == "quit":
                break
            print("ok", flush=True)


if __name__ == "__main__":
    main()
