"""The printer agent: one per printer. Takes jobs from the bus, prints each job_id at most once, fails fast
with a Chinese reason when the printer cannot print, and keeps the printer's status on the bus."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from broker.client import BusClient, BusSettings, decode
from broker.messages import DeviceAvailability, DeviceEvent, PrintJob
from broker.topics import Topics
from firmware_config.devices import PrinterProfile, SimulatorConnection
from kiosk import watchdog
from kiosk.printer.connection import PrinterIOError, PrinterLink, TcpLink, open_link
from kiosk.printer.journal import Entry, Journal
from kiosk.printer.layout import render
from kiosk.printer.outbox import RateLimiter, ResultOutbox
from kiosk.printer.simulator import PrinterSimulator
from kiosk.printer.status import NO_ANSWER, PrinterState

log = logging.getLogger("hallq.printer")

EXPIRED = "已过期，未打印"
INTERRUPTED = "打印中断（打印机代理重启），未重打，请到窗口补打"
BROKEN_OFF = "打印机连接中断，凭条可能不完整"
RAN_OUT = "打印过程中缺纸，凭条可能不完整"
BAD_JOB = "打印任务内容无效"
CLOCK_SLACK_S = 60  # server and printer clocks further apart than this are not the same clock
RESEND_RESULTS_S = 15 * 60  # an unacknowledged result older than this is of no use to anyone: not resent


class PrinterAgent:
    """Runs one printer device: bus client, job worker thread, status poller thread."""

    def __init__(
        self,
        profile: PrinterProfile,
        bus: BusSettings,
        state_dir: Path,
        link: PrinterLink | None = None,
        status_timeout_s: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.profile = profile
        self.device = profile.id
        self.state_dir = state_dir
        self.status_timeout_s = status_timeout_s
        self.clock = clock or (lambda: datetime.now(UTC))
        self.simulator: PrinterSimulator | None = None
        conn = profile.connection
        if link is None and isinstance(conn, SimulatorConnection) and conn.port == 0:
            capture = state_dir / f"{self.device}.capture.bin"
            self.simulator = PrinterSimulator(conn.host, 0, capture_file=capture)
        self.link = link
        self.journal = Journal(state_dir / f"{self.device}.journal")
        self.topics = Topics(bus.hall)
        self.zone = ZoneInfo(bus.timezone)
        self.bus = BusClient(bus, self._topic("availability"), self._availability)
        # results go out at most RESULTS_PER_S a second and are marked in the journal once acknowledged
        self.outbox = ResultOutbox(
            self._publish_result, self.journal.acknowledge, self.bus.wait_connected, limiter, f"results-{self.device}"
        )
        self._jobs: queue.Queue[tuple[PrintJob, float] | None] = queue.Queue()  # with its local deadline
        self._printer_lock = threading.Lock()
        self._stop = threading.Event()
        self._status: PrinterState | None = None
        self._status_lock = threading.Lock()
        self._last_read = 0.0
        self._threads: list[threading.Thread] = []
        self.ready = threading.Event()  # set once the first status has been read

    def _topic(self, channel: str) -> str:
        return self.topics.device(self.device, channel)

    def _now(self) -> datetime:
        return self.clock().astimezone(self.zone)  # the hall's clock (a demo clock too), in the hall's zone

    def _availability(self, state: str) -> DeviceAvailability:
        return DeviceAvailability.of(self._now(), state, "printer")

    @property
    def status(self) -> PrinterState | None:
        """The printer's state as last read."""
        return self._status

    # --- life cycle ---

    def start(self) -> None:
        """Recover the journal, connect to the printer and the bus, start the worker and the poller."""
        if self.simulator is not None:
            self.simulator.start()
            self.link = TcpLink(self.simulator.host, self.simulator.port)
            log.info(
                "demo printer simulator on %s:%s, printed bytes go to %s",
                self.simulator.host,
                self.simulator.port,
                self.simulator.capture_file,
            )
        elif self.link is None:
            self.link = open_link(self.profile.connection)
        reports: list[Entry] = []
        recent = time.time() - RESEND_RESULTS_S
        for entry in self.journal.load():
            if entry.state in ("printed", "failed"):
                if not entry.acked and entry.at >= recent:
                    reports.append(entry)  # the broker never confirmed it: say it again
            elif entry.state == "started":
                reports.append(self.journal.record(entry.job_id, "failed", error=INTERRUPTED, sent=True))
            elif entry.state == "queued" and entry.payload is not None:
                try:
                    job = PrintJob.model_validate(entry.payload)
                    self._jobs.put((job, entry.deadline or job.expires_at.timestamp()))
                except ValidationError:
                    reports.append(self.journal.record(entry.job_id, "failed", error=BAD_JOB))
        self.bus.subscribe(self._topic("job"), self._on_job)
        self.bus.when_connected(self._republish_status)
        self.outbox.start()
        self.bus.start()
        for entry in reports:
            if entry.error == INTERRUPTED:
                log.warning("job %s was interrupted by a restart: reported failed, not reprinted", entry.job_id)
            self._report(entry)
        for target, name in ((self._work, "printer-jobs"), (self._poll, "printer-status")):
            thread = threading.Thread(target=target, name=f"{name}-{self.device}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Finish the job being printed, stop the threads, say offline and disconnect."""
        self._stop.set()
        self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=15)
        self.outbox.wait_idle(timeout=3)  # let the last results be acknowledged; the rest are resent later
        self.outbox.stop()
        self.bus.stop()
        self.journal.close()
        if self.simulator is not None:
            self.simulator.stop()

    # --- bus side ---

    def _on_job(self, _topic: str, payload: bytes) -> None:
        """On the network thread: journal the job (fsync) before the broker gets its acknowledgement."""
        try:
            job = PrintJob.model_validate_json(payload)
        except ValidationError:
            raw = decode(payload) or {}
            job_id = raw.get("job_id")
            log.warning("malformed print job dropped: %s", str(job_id)[:64])
            if isinstance(job_id, str) and job_id and self.journal.get(job_id) is None:
                self._report(self.journal.record(job_id, "failed", error=BAD_JOB))
            return
        entry = self.journal.get(job.job_id)
        if entry is not None and entry.state in ("queued", "started"):
            log.info("job %s is already queued: duplicate ignored", job.job_id)
            return
        if entry is not None and entry.final:
            log.info("job %s was handled before (%s): not printed again", job.job_id, entry.state)
            self._report(entry)
            return
        deadline = local_deadline(job, self.clock()).timestamp()
        self.journal.record(job.job_id, "queued", payload=json.loads(payload), deadline=deadline)
        self._jobs.put((job, deadline))

    def _report(self, entry: Entry) -> None:
        """Send a job's result (through the rate-limited outbox; never blocks)."""
        self.outbox.put(entry)

    def _publish_result(self, entry: Entry) -> mqtt.MQTTMessageInfo:
        event = DeviceEvent(
            ts=self._now(),
            type="job_result",
            job_id=entry.job_id,
            status="printed" if entry.state == "printed" else "failed",
            error=entry.error,
        )
        return self.bus.publish(self._topic("event"), event)

    def _set_status(self, state: PrinterState) -> None:
        with self._status_lock:
            changed = state != self._status
            self._status = state
            self._last_read = time.monotonic()
        self.ready.set()
        if changed:
            log.info("printer %s: %s", self.device, state.reason or f"ready, paper {state.paper}")
            self.bus.publish(self._topic("status"), state.message(self._now()), retain=True)

    def _republish_status(self) -> None:
        if self._status is not None:
            self.bus.publish(self._topic("status"), self._status.message(self._now()), retain=True)

    # --- printer side ---

    def _read_status(self) -> PrinterState:
        assert self.link is not None
        try:
            return self.link.read_status(self.status_timeout_s)
        except PrinterIOError as exc:
            log.warning("printer %s: %s", self.device, exc)
            return NO_ANSWER

    def _poll(self) -> None:
        """Read the status every status_poll_s while no job is printing; keep the systemd watchdog fed."""
        assert self.link is not None
        watchdog.ready("打印机代理已启动")
        interval = float(self.profile.status_poll_s)
        while not self._stop.is_set():
            due = self._status is None or time.monotonic() - self._last_read >= interval
            wanted = due and (self.link.queryable or self._status is None)
            # a job holding the printer reads the status itself: skip this round rather than wait
            if wanted and self._printer_lock.acquire(timeout=1.0):
                try:
                    self._poll_once()
                finally:
                    self._printer_lock.release()
            watchdog.watchdog_ping()
            left = interval - (time.monotonic() - self._last_read)
            self._stop.wait(min(5.0, max(0.05, left)))

    def _poll_once(self) -> None:
        assert self.link is not None
        try:
            with self.link.session():
                self._set_status(self._read_status())
        except PrinterIOError as exc:
            log.warning("printer %s: %s", self.device, exc)
            self._set_status(NO_ANSWER)

    def _work(self) -> None:
        """Jobs one at a time, in arrival order."""
        while True:
            item = self._jobs.get()
            if item is None or self._stop.is_set():
                return
            job, deadline = item
            try:
                self._print(job, deadline)
            except Exception:  # a bug in one job must not stop the printer
                log.exception("job %s failed unexpectedly", job.job_id)
                entry = self.journal.get(job.job_id)
                sent = bool(entry and entry.sent)
                error = BROKEN_OFF if sent else BAD_JOB
                self._report(self.journal.record(job.job_id, "failed", error=error, sent=sent))

    def _finish(self, job: PrintJob, printed: bool, error: str | None = None, sent: bool = False) -> None:
        entry = self.journal.record(job.job_id, "printed" if printed else "failed", error=error, sent=sent)
        self._report(entry)
        log.info("job %s (%s): %s", job.job_id, job.kind, "printed" if printed else f"failed: {error}")

    def _print(self, job: PrintJob, deadline: float) -> None:
        entry = self.journal.get(job.job_id)
        if entry is not None and entry.state != "queued":
            return  # handled already (a duplicate that was queued twice)
        if self.clock().timestamp() >= deadline:
            self._finish(job, False, EXPIRED)
            return
        try:
            data = render(job.kind, job.document, self.profile.paper_width_mm)
        except (ValueError, UnicodeError) as exc:
            log.warning("job %s cannot be laid out: %s", job.job_id, exc)
            self._finish(job, False, BAD_JOB)
            return
        assert self.link is not None
        sent = False
        with self._printer_lock:
            try:
                with self.link.session():
                    before = self._read_status()
                    self._set_status(before)
                    if not before.can_print:
                        self._finish(job, False, before.reason)
                        return
                    self.journal.record(job.job_id, "started")
                    sent = True
                    self.link.send(data)
                    after = self._read_status()
                    self._set_status(after)
            except PrinterIOError as exc:
                log.warning("job %s: %s", job.job_id, exc)
                self._set_status(NO_ANSWER)
                self._finish(job, False, BROKEN_OFF if sent else NO_ANSWER.reason, sent=sent)
                return
        if after.paper == "out":
            self._finish(job, False, RAN_OUT, sent=True)
        else:
            self._finish(job, True)


def local_deadline(job: PrintJob, now: datetime) -> datetime:
    """When a job expires by this machine's clock: its expires_at, unless the server's clock is plainly
    elsewhere (a demo clock, HALLQ_CLOCK_START): then the job's own time to live, counted from now.

    The broker drops a job queued longer than its message expiry, so a job's `ts` is never older than its
    time to live when the clocks agree."""
    ttl = job.expires_at - job.ts
    skew = (job.ts - now).total_seconds()
    if skew > CLOCK_SLACK_S or skew < -(ttl.total_seconds() + CLOCK_SLACK_S):
        return now + ttl
    return job.expires_at
