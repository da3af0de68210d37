"""City ingest benchmark (issue 17): catch-up ingest rate into PostgreSQL, end-to-end lag at the peak of 300
halls (~700 records/s), and the catch-up after a hall was offline for a whole day.

    python -m bench.city_ingest [--halls 300] [--catchup-per-hall 150] [--rate 700] [--seconds 20]

The halls are simulated by bridge-less publishers (`bench/city_load.py`): one MQTT login per hall with the
hall's own bridge account, publishing the peak-hour record mix to the city Mosquitto, in a process of its
own. Lag is hall publish → the hall receives the city's ack covering the record (so: the city holds it in
PostgreSQL and the hall knows), i.e. an upper bound of "hall commit → city row" minus the hall's own
outbox poll. Baselines in the same run: a bare batched INSERT … ON CONFLICT DO NOTHING of the same number of
rows (for the rate) and the same load acknowledged by an echo that stores nothing (for the lag).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from bench.city_load import City, Ingest, LoadGenerator, bench_city, code_of, record_for, wait_for
from city.broker import INGEST_USERNAME
from hallcore.sync import envelope


def raw_insert_rate(city: City, n: int) -> float:
    """Rows/s of a bare batched INSERT … ON CONFLICT DO NOTHING of n record-sized rows (one connection)."""
    url = city.url.replace("postgresql+psycopg://", "postgresql://")
    rows = []
    at = datetime.now(UTC)
    for i in range(n):
        env = envelope("0001", i + 1, at, record_for(i + 1, at))
        rows.append(("0001", i + 1, at, env.model_dump_json()))
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bench_raw (hall text, seq bigint, at timestamptz, record jsonb, "
                     "PRIMARY KEY (hall, seq))")  # fmt: skip
        conn.commit()
        start = time.monotonic()
        with conn.cursor() as cur:
            for i in range(0, n, 500):
                cur.executemany(
                    "INSERT INTO bench_raw VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", rows[i : i + 500]
                )
                conn.commit()
        took = time.monotonic() - start
        conn.execute("DROP TABLE bench_raw")
    return n / took


class Echo:
    """The lag baseline: acknowledges every record at once, storing nothing (the broker round trip alone)."""

    def __init__(self, city: City) -> None:
        account = city.broker.account(INGEST_USERNAME)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-echo", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(account.username, account.password)
        self.client.on_connect = lambda c, *_: c.subscribe("hall/+/sync/up/+", qos=1)
        self.client.on_message = self._echo
        self.client.connect(city.broker.host, city.broker.port)
        self.client.loop_start()
        time.sleep(0.5)

    def _echo(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        data = json.loads(msg.payload)
        ack = json.dumps({"upto": data["seq"], "ts": datetime.now(UTC).isoformat()})
        client.publish(f"hall/{data['hall']}/sync/ack", ack, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--halls", type=int, default=300)
    parser.add_argument("--catchup-per-hall", type=int, default=150)
    parser.add_argument("--rate", type=float, default=700, help="peak records/s from all halls")
    parser.add_argument("--seconds", type=float, default=20, help="length of the peak run")
    parser.add_argument("--day-records", type=int, default=3600 * 6, help="one hall's day: 3,600 visits × 6")
    args = parser.parse_args()
    with bench_city(args.halls + 1) as city:
        halls = city.codes[: args.halls]
        day_hall = code_of(args.halls + 1)
        n = args.halls * args.catchup_per_hall
        print(f"city bench: {args.halls} halls, PostgreSQL fsync on, city Mosquitto, 2 ingest workers")

        # 1. Catch-up: the ingest was away while the halls published; measure how fast it works off the queue.
        baseline = raw_insert_rate(city, n)
        ingest = Ingest(city)
        ingest.start()
        time.sleep(8)  # the workers subscribe (their persistent sessions now queue for them)
        ingest.stop()
        load = LoadGenerator(city, halls, args.catchup_per_hall, rate=0, wait_acks_s=0).start().join()
        ingest.start()
        wait_for(city, "SELECT count(*) FROM received", 1, 120)  # the workers are up and storing
        took = wait_for(city, "SELECT count(*) FROM received", n, 900)
        rate = n / took
        print(f"catch-up ingest: {n} records queued at the broker in {load.published_s:.1f} s, stored in "
              f"{took:.1f} s = {rate:,.0f} records/s (target ≥ 5,000); bare INSERT baseline {baseline:,.0f} rows/s; "
              f"ratio {rate / baseline:.2f}")  # fmt: skip

        # 2. Peak lag at ~700 records/s: echo baseline first, then the real ingest.
        per_hall = max(1, int(args.rate * args.seconds / args.halls))
        ingest.stop()
        echo = Echo(city)
        base = LoadGenerator(city, halls, per_hall, args.rate, first_seq=10**9, wait_acks_s=30).start().join()
        echo.close()
        ingest.start()
        time.sleep(8)
        peak = LoadGenerator(city, halls, per_hall, args.rate, first_seq=args.catchup_per_hall + 1,
                             wait_acks_s=60).start().join()  # fmt: skip
        achieved = peak.published / peak.published_s
        print(f"peak lag: {peak.published} records at {achieved:,.0f} records/s from {args.halls} halls: "
              f"p50 {peak.percentile(50) * 1000:.0f} ms, p99 {peak.percentile(99) * 1000:.0f} ms "
              f"(target p99 ≤ 2,000 ms), unacknowledged {peak.unacked}; broker-only echo baseline p50 "
              f"{base.percentile(50) * 1000:.0f} ms, p99 {base.percentile(99) * 1000:.0f} ms; p99 ratio "
              f"{peak.percentile(99) / max(base.percentile(99), 1e-6):.1f}")  # fmt: skip

        # 3. One hall back after a whole day offline: its bridge delivers the day at once.
        day = LoadGenerator(city, [day_hall], args.day_records, rate=0, wait_acks_s=600).start()
        start = time.monotonic()
        result = day.join()
        took = time.monotonic() - start
        print(f"one-day catch-up: {args.day_records} records of hall {day_hall} published in "
              f"{result.published_s:.1f} s, "
              f"all acknowledged after {took:.1f} s ({args.day_records / took:,.0f} records/s; "
              f"unacknowledged {result.unacked}); a real hall's publisher sends at most max_rate (default 500/s), "
              f"so its day takes ≥ {args.day_records / 500:.0f} s from the hall's side")  # fmt: skip
        ingest.stop()


if __name__ == "__main__":
    main()
