"""A stand-in for the city's ingest in tests: it reads every record the bridge brings, checks it with the
contract's own parser, and acknowledges when asked."""

from __future__ import annotations

import queue
import time
from datetime import UTC, datetime

from broker.topics import sync_ack
from hallcore.sync import Ack, Envelope, parse
from tests.bus.fixtures import Probe
from tests.sync.rig import CODE, INGEST_USER, CityRig


class FakeIngest:
    """Subscribed at the city broker to this hall's records."""

    def __init__(self, rig: CityRig) -> None:
        self.probe = Probe(rig.city, INGEST_USER, rig.ingest_password, client_id="test-ingest-records")  # type: ignore[arg-type]
        assert self.probe.connect() == 0
        assert self.probe.subscribe(f"hall/{CODE}/sync/up/+") == 1
        self.received: list[Envelope] = []

    def take(self, n: int, timeout: float = 15.0) -> list[Envelope]:
        """The next n records (parsed and checked), failing after the timeout."""
        got: list[Envelope] = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(got)} of {n} records reached the city: {[e.seq for e in got]}"
            try:
                msg = self.probe.messages.get(timeout=left)
            except queue.Empty:
                continue
            stream = msg.topic.rsplit("/", 1)[1]
            env, _ = parse(stream, bytes(msg.payload))
            assert env.hall == CODE
            got.append(env)
        self.received += got
        return got

    def quiet(self, seconds: float) -> list[int]:
        """Seqs that arrive within `seconds` (expected: none)."""
        seqs = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = self.probe.messages.get(timeout=left)
            except queue.Empty:
                break
            seqs.append(Envelope.model_validate_json(msg.payload).seq)
        return seqs

    def ack(self, upto: int) -> None:
        """Acknowledge every record up to `upto`."""
        ack = Ack(upto=upto, ts=datetime.now(UTC))
        self.probe.publish(sync_ack(CODE), ack.model_dump_json())

    def close(self) -> None:
        self.probe.close()
