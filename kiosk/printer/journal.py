"""The job journal on disk: every job is written `queued` when it arrives, `started` before its bytes go to
the printer and `printed`/`failed` after, each line fsynced, so a restart neither loses nor reprints a job.
A result is then marked `acked` once the broker confirmed it (PUBACK): a restart resends only the others."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("hallq.printer.journal")
State = Literal["queued", "started", "printed", "failed"]
KEEP_S = 2 * 24 * 3600  # finished jobs are remembered this long (print jobs expire within minutes)


@dataclass
class Entry:
    """The last known state of one job."""

    job_id: str
    state: State
    at: float
    seq: int
    payload: dict[str, Any] | None = None  # the job as received, kept while it is queued
    error: str | None = None
    sent: bool = False  # bytes may have reached the printer: never send this job again
    deadline: float | None = None  # when a queued job expires, on this machine's clock (epoch seconds)
    acked: bool = False  # the broker acknowledged this result (printed/failed): never resend it

    @property
    def final(self) -> bool:
        """Printed, or failed after bytes may have gone out, or failed for good: nothing more to do."""
        return self.state == "printed" or (self.state == "failed" and self.sent)


class Journal:
    """Append-only JSON lines, one file per printer; compacted when loaded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        self._seq = 0
        self._fd: int | None = None

    def load(self) -> list[Entry]:
        """Read the file (a torn last line is ignored), compact it, and return the entries by arrival."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entries: dict[str, Entry] = {}
        if self.path.exists():
            for raw in self.path.read_bytes().splitlines():
                try:
                    record = json.loads(raw)
                    job_id = str(record["job_id"])
                except (ValueError, KeyError, TypeError):
                    continue
                old = entries.get(job_id)
                self._seq += 1
                entries[job_id] = Entry(
                    job_id=job_id,
                    state=record["state"],
                    at=float(record.get("at", 0)),
                    seq=old.seq if old else self._seq,
                    payload=record.get("payload") or (old.payload if old else None),
                    error=record.get("error"),
                    sent=bool(record.get("sent")) or record["state"] == "started" or bool(old and old.sent),
                    deadline=record.get("deadline") or (old.deadline if old else None),
                    acked=bool(record.get("acked")),
                )
        horizon = time.time() - KEEP_S
        with self._lock:
            self._entries = {k: e for k, e in entries.items() if not (e.final and e.at < horizon)}
            self._rewrite()
            return sorted(self._entries.values(), key=lambda e: e.seq)

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as out:
            for entry in sorted(self._entries.values(), key=lambda e: e.seq):
                out.write(self._line(entry))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        self._fsync_dir()
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _fsync_dir(self) -> None:
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _line(entry: Entry) -> bytes:
        record: dict[str, Any] = {"job_id": entry.job_id, "state": entry.state, "at": round(entry.at, 3)}
        if entry.state == "queued" and entry.payload is not None:
            record["payload"] = entry.payload
            record["deadline"] = entry.deadline
        if entry.error:
            record["error"] = entry.error
        if entry.sent:
            record["sent"] = True
        if entry.acked:
            record["acked"] = True
        return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"

    def get(self, job_id: str) -> Entry | None:
        """The job's last state, if it was ever seen."""
        with self._lock:
            return self._entries.get(job_id)

    def record(
        self,
        job_id: str,
        state: State,
        payload: dict[str, Any] | None = None,
        error: str | None = None,
        sent: bool = False,
        deadline: float | None = None,
    ) -> Entry:
        """Write a state change durably (fsync) before returning."""
        with self._lock:
            old = self._entries.get(job_id)
            if old is None:
                self._seq += 1
            entry = Entry(
                job_id=job_id,
                state=state,
                at=time.time(),
                seq=old.seq if old else self._seq,
                payload=payload if payload is not None else (old.payload if old else None),
                error=error,
                sent=sent or state == "started" or bool(old and old.sent),
                deadline=deadline if deadline is not None else (old.deadline if old else None),
            )
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(self._fd, self._line(entry))
            os.fsync(self._fd)
            self._entries[job_id] = entry
            return entry

    def acknowledge(self, entry: Entry) -> bool:
        """Mark a result acknowledged by the broker, if the job is still in the state that was reported.

        Not fsynced: a lost mark (power cut) only makes the next start send the result once more, which the
        server ignores; the result itself was fsynced before it was published."""
        with self._lock:
            current = self._entries.get(entry.job_id)
            if current is None or current.acked or (current.state, current.at) != (entry.state, entry.at):
                return False
            current.acked = True
            if self._fd is not None:
                os.write(self._fd, self._line(current))
            return True

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
                self._fd = None
