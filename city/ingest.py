"""The city ingest: worker processes, each with its own consumer (transport) and store (database), that
take batches, store them once, acknowledge the watermark to each hall, then settle with the broker.
The parent process watches the workers (a dead worker is restarted) and refreshes the rollups."""

from __future__ import annotations

import importlib
import json
import logging
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError

from city.acker import Acker
from city.consumers.base import Consumer, Delivery
from city.db import make_engine
from city.rollups import refresh_all
from city.settings import CitySettings
from city.store import BatchResult, Incoming, Store
from hallcore.clock import Clock, SystemClock

log = logging.getLogger("city.ingest")
CONSUMERS = {"mqtt": "city.consumers.mqtt:MqttConsumer", "amqp": "city.consumers.amqp:AmqpConsumer"}
RETRY_S = (0.2, 0.5, 1, 2, 5)  # database unreachable: keep the batch and retry (nothing is settled)


def make_consumer(settings: CitySettings, worker: int) -> Consumer:
    """The configured transport for one worker: `Class(settings, worker)`."""
    module, name = CONSUMERS[settings.consumer].split(":")
    cls: Any = getattr(importlib.import_module(module), name)
    consumer: Consumer = cls(settings, worker)
    return consumer


@dataclass
class Totals:
    """What a worker has done since it started."""

    batches: int = 0
    stored: int = 0
    replays: int = 0
    rejected: int = 0


def store_safely(store: Store, messages: list[Incoming]) -> BatchResult:
    """Store a batch; if the database refuses it as a whole (a record it cannot hold), store the messages one
    by one and log the refused one as rejected, so one bad record never stops the ingest."""
    try:
        return store.ingest(messages)
    except OperationalError:
        raise
    except DBAPIError as exc:
        log.warning("batch refused by the database (%s); storing one by one", type(exc.orig).__name__)
    total = BatchResult()
    for msg in messages:
        try:
            one = store.ingest([msg])
        except OperationalError:
            raise
        except DBAPIError as exc:
            store.reject(msg, f"database refused the record: {type(exc.orig).__name__}")
            total.rejected += 1
            continue
        total.stored += one.stored
        total.replays += one.replays
        total.rejected += one.rejected
        total.acks |= one.acks
    return total


def handle(consumer: Consumer, store: Store, batch: list[Delivery], clock: Clock, stop: threading.Event) -> BatchResult:
    """One batch: store (retrying while the database is down), acknowledge each hall, then settle."""
    messages = [d.message for d in batch]
    attempt = 0
    while True:
        try:
            result = store_safely(store, messages)
            break
        except OperationalError as exc:
            delay = RETRY_S[min(attempt, len(RETRY_S) - 1)]
            log.error("city database unreachable (%s); retrying in %.1f s", str(exc).splitlines()[0][:200], delay)
            attempt += 1
            if stop.wait(delay):
                raise
    now = clock.now()
    for hall, upto in sorted(result.acks.items()):
        consumer.acknowledge(hall, upto, now)
    consumer.settle(batch)
    return result


def run_worker(
    settings: CitySettings,
    worker: int,
    stop: threading.Event,
    clock: Clock | None = None,
    consumer: Consumer | None = None,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> Totals:
    """A worker's loop until `stop` is set: take, store, settle (its acker thread acknowledges, when leading)."""
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url, pool_size=2, max_overflow=2)
    store = Store(
        engine, clock, past_days=settings.record_past_days, future_days=settings.record_future_days, advance=False
    )
    try:
        store.partitions.ensure_ahead(clock.now().date())
    except OperationalError as exc:  # the database is down: partitions are also made on demand later
        log.error("city database unreachable at start (%s)", str(exc).splitlines()[0][:200])
    consumer = consumer or make_consumer(settings, worker)
    consumer.connect()
    totals = Totals()
    # The acker (leader among all workers) computes the acks; it publishes them itself when the transport
    # client is thread-safe (paho), else this worker's loop does between batches (pika is not). FIFO, and the
    # acker only moves up: monotonic either way.
    acks: queue.SimpleQueue[tuple[str, int, datetime]] = queue.SimpleQueue()
    acker_engine = make_engine(settings.database_url, pool_size=1, max_overflow=1)
    publish = consumer.acknowledge if consumer.threadsafe_acks else (lambda h, u, ts: acks.put((h, u, ts)))
    acker = Acker(acker_engine, clock, publish)
    acker_stop = threading.Event()
    acker_thread = threading.Thread(target=acker.run, args=(acker_stop,), name=f"city-acker-{worker}", daemon=True)
    acker_thread.start()
    try:
        while not stop.is_set():
            _send_acks(consumer, acks)
            batch = consumer.take(settings.batch_size, settings.batch_wait_s)
            if not batch:
                continue
            try:
                result = handle(consumer, store, batch, clock, stop)
            except OperationalError:
                break  # stopping while the database is down: unsettled messages stay with the broker
            totals.batches += 1
            totals.stored += result.stored
            totals.replays += result.replays
            totals.rejected += result.rejected
            if on_batch is not None:
                on_batch(result)
            log.debug("worker %d: %s", worker, result)
    finally:
        acker_stop.set()
        acker_thread.join(timeout=10)
        _send_acks(consumer, acks)
        consumer.close()
        engine.dispose()
        acker_engine.dispose()
    log.info("worker %d stopped: %s", worker, totals)
    return totals


def _send_acks(consumer: Consumer, acks: queue.SimpleQueue[tuple[str, int, datetime]]) -> None:
    """Publish what the acker has queued, the newest per hall (later entries never go lower)."""
    latest: dict[str, tuple[int, datetime]] = {}
    while True:
        try:
            hall, upto, ts = acks.get_nowait()
        except queue.Empty:
            break
        latest[hall] = (upto, ts)
    for hall, (upto, ts) in sorted(latest.items()):
        consumer.acknowledge(hall, upto, ts)


def _worker_main(settings_json: str, worker: int) -> None:
    """Entry point of a worker process: SIGTERM/SIGINT stop it after the batch in hand."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s ingest-{worker} %(levelname)s %(message)s")
    settings = CitySettings.model_validate_json(settings_json)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_worker(settings, worker, stop)


def _settings_json(settings: CitySettings) -> str:
    data = settings.model_dump(mode="json")
    for secret in ("broker_password", "amqp_url"):
        value = getattr(settings, secret)
        data[secret] = value.get_secret_value() if value is not None else None
    return json.dumps(data)


class Ingest:
    """N worker processes plus the rollup refresher; `run()` blocks until stopped (SIGTERM, Ctrl-C)."""

    def __init__(self, settings: CitySettings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self.stop = threading.Event()
        self.ctx = multiprocessing.get_context("spawn")
        self.procs: dict[int, Any] = {}

    def _start(self, worker: int) -> None:
        proc = self.ctx.Process(
            target=_worker_main, args=(_settings_json(self.settings), worker), name=f"city-ingest-{worker}"
        )
        proc.start()
        self.procs[worker] = proc
        log.info("ingest worker %d started (pid %s)", worker, proc.pid)

    def run(self) -> None:
        """Start the workers, restart any that dies, refresh rollups; stop them all on the way out."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: self.stop.set())
        engine = make_engine(self.settings.database_url, pool_size=1, max_overflow=1)
        for worker in range(1, self.workers + 1):
            self._start(worker)
        next_rollup = 0.0
        try:
            while not self.stop.wait(0.5):
                for worker, proc in list(self.procs.items()):
                    if not proc.is_alive():
                        log.error("ingest worker %d exited (code %s); restarting", worker, proc.exitcode)
                        self._start(worker)
                if time.monotonic() >= next_rollup:
                    next_rollup = time.monotonic() + self.settings.rollup_interval_s
                    try:
                        done = refresh_all(engine)
                        if done:
                            log.info("rollups refreshed for %d hall-days", done)
                    except OperationalError as exc:
                        log.error("rollup refresh failed: %s", str(exc).splitlines()[0][:200])
                    except Exception:  # never take the workers down with the refresher: log it, try again later
                        log.exception("rollup refresh failed")
        finally:
            for proc in self.procs.values():
                if proc.is_alive():
                    proc.terminate()
            for proc in self.procs.values():
                proc.join(timeout=15)
                if proc.is_alive():
                    proc.kill()
            engine.dispose()
