"""好差评 to the provincial platform: the city's evaluations and rectifications (stored by the real ingest
path) become GB/T 39046 records in idempotent monthly batches, uploaded over signed HTTPS to the local
receiver (`python -m city.platform.receiver`, a real TLS server with a certificate from broker/tls.py).
Valid uploads are accepted; a bad field is refused with the field named; a bad signature is 401; with the
receiver down the batch waits and is retried later, nothing lost and nothing stored twice."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, update

from broker.tls import make_ca, make_server_cert
from city.platform import gbt39046, signing
from city.platform.export import body_bytes, export_month
from city.platform.receiver import PATH, Ledger, Receiver
from city.platform.settings import PlatformSettings
from city.platform.tables import platform_batch, platform_upload_log
from city.platform.upload import Uploader
from city.store import Store
from hallcore.clock import ManualClock
from hallcore.sync import EvaluationRecord
from tests.city.conftest import NOW, evaluation, message, rectification
from tests.cityfeed.rig import free_port, wait_for

KEY = b"platform-shared-signing-key-0123456789"


@dataclass
class Platform:
    url: str
    ca: Path
    cert: Path
    key: Path
    secret_file: Path
    port: int


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    ca = make_ca(tmp_path / "pki", "provincial platform CA")
    tls = make_server_cert(ca, tmp_path / "pki")
    secret = tmp_path / "platform.key"
    secret.write_bytes(KEY)
    port = free_port()
    return Platform(f"https://127.0.0.1:{port}{PATH}", ca.certfile, tls.certfile, tls.keyfile, secret, port)


@pytest.fixture
def receiver(platform: Platform) -> Iterator[Receiver]:
    import threading

    server = Receiver("127.0.0.1", platform.port, platform.cert, platform.key, KEY, Ledger())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _settings(platform: Platform, **changes: object) -> PlatformSettings:
    fields: dict[str, object] = {"url": platform.url, "sender": "testcity", "key": KEY.decode(), "ca_file": platform.ca}
    return PlatformSettings(**(fields | changes))  # type: ignore[arg-type]


def _month_of_ratings(store: Store) -> None:
    """Hall 0001: three ratings in November (one with a case, one 差评 with indicators and a phone number in
    its comment) and the 差评's rectification; one in October. Hall 0002: one in November."""
    with_case = evaluation(1, level_gb=1).model_copy(
        update={"serial_no": "11440300MB2F37106H0001202611230001000012"[:40]}
    )
    bad = evaluation(2, level_gb=5).model_copy(
        update={
            "indicators": {"attitude": 5, "efficiency": 4},
            "comment": "等了很久，电话13800138000",
            "channel": "kiosk",
        }
    )
    earlier = evaluation(3, level_gb=2, at=NOW - timedelta(days=30))  # October: not in this month
    result = store.ingest(
        [
            message("0001", 1, with_case),
            message("0001", 2, bad),
            message("0001", 3, evaluation(4, level_gb=3)),
            message("0001", 4, rectification(2, deadline=NOW.date() + timedelta(days=7), state="open")),
            message("0001", 5, earlier),
            message("0002", 1, evaluation(1, level_gb=2)),
        ]
    )
    assert not result.rejected, result


def _uploaded(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.batch_id: r.state for r in conn.execute(select(platform_batch))}


def test_a_month_is_exported_once_and_accepted_by_the_platform(
    city_engine: Engine, store: Store, platform: Platform, receiver: Receiver
) -> None:
    _month_of_ratings(store)
    now = datetime.now(UTC)
    made = export_month(city_engine, "2026-11", "testcity", now, batch_size=2)
    assert made.records == 5 and len(made.batches) == 3  # 4 ratings + 1 rectification in November
    assert export_month(city_engine, "2026-11", "testcity", now).records == 0  # again: nothing new

    uploader = Uploader(city_engine, _settings(platform), ManualClock(now))
    attempts = uploader.run()
    assert [a.state for a in attempts] == ["sent"] * 3 and all(a.status == 200 for a in attempts)
    records = {r["record_id"]: r for r in receiver.ledger.records()}
    assert sorted(records) == ["0001-E1", "0001-E2", "0001-E4", "0001-R2", "0002-E1"]
    good, bad, rect = records["0001-E1"], records["0001-E2"], records["0001-R2"]
    assert good["satisfaction"] == 1 and good["is_bad"] == 0 and good["project_no"].startswith("11440300MB2F")
    assert good["channel"] == 4 and good["region_code"] == "440305" and good["evaluated_at"] == "2026-11-23 15:00:00"
    assert bad["satisfaction"] == 5 and bad["is_bad"] == 1 and bad["channel"] == 7
    assert bad["project_no"] == "0001V000000000002"  # no case: the visit's number
    assert bad["indicators"] == [
        {"code": "01", "name": "服务态度", "satisfaction": 5},
        {"code": "02", "name": "服务效率", "satisfaction": 4},
    ]
    assert "13800138000" not in bad["comment"] and "138****8000" in bad["comment"]
    assert rect["evaluation_record_id"] == "0001-E2" and rect["rectify_state"] == 1 and rect["on_time"] is None
    assert uploader.run() == []  # nothing due any more

    # The answer to a batch was lost: sent again, the platform answers it once more and stores nothing twice
    first = made.batches[0]
    with city_engine.begin() as conn:
        conn.execute(update(platform_batch).where(platform_batch.c.batch_id == first).values(state="pending"))
    [again] = uploader.run()
    assert again.state == "sent" and json.loads(again.response)["duplicate"] is True
    assert len(receiver.ledger.records()) == 5 and receiver.ledger.batches() == 3
    with city_engine.connect() as conn:
        log = conn.execute(select(platform_upload_log).where(platform_upload_log.c.batch_id == first)).all()
    assert [(r.attempt, r.status) for r in log] == [(1, 200), (2, 200)]


def test_a_bad_field_is_refused_with_the_field_named(
    city_engine: Engine, platform: Platform, receiver: Receiver
) -> None:
    record = gbt39046.evaluation(
        "0001",
        9,
        "44030",
        EvaluationRecord(evaluation_id=9, visit_id=9, level_gb=2, is_bad=False, channel="qr", at=NOW).model_dump(
            mode="json"
        ),
    )  # a region code one digit short
    ok = gbt39046.evaluation(
        "0001",
        10,
        "440305",
        EvaluationRecord(evaluation_id=10, visit_id=10, level_gb=2, is_bad=False, channel="qr", at=NOW).model_dump(
            mode="json"
        ),
    )
    now = datetime.now(UTC)
    with city_engine.begin() as conn:
        conn.execute(
            insert(platform_batch).values(
                batch_id="testcity-202611-0900",
                month="2026-11",
                created_at=now,
                records=2,
                body=[record, ok],
                digest="-",
                state="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
    [attempt] = Uploader(city_engine, _settings(platform), ManualClock(now)).run()
    assert attempt.status == 200 and attempt.state == "partial"
    answer = json.loads(attempt.response)
    assert answer["accepted"] == 1
    assert answer["rejected"] == [
        {
            "index": 0,
            "record_id": "0001-E9",
            "errors": [{"field": "region_code", "message": "应为6 位行政区划代码（GB/T 2260）"}],
        }
    ]
    assert [r["record_id"] for r in receiver.ledger.records()] == ["0001-E10"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("record_id", "1-E1"),
        ("project_no", "x" * 51),
        ("item_code", "代码"),
        ("channel", 9),
        ("evaluated_at", "2026-11-23T15:00:00+08:00"),
        ("evaluated_at", "2026-02-30 10:00:00"),
        ("satisfaction", 0),
        ("evaluation_kind", 3),
        ("is_bad", True),
        ("indicators", [{"code": "04", "name": "环境", "satisfaction": 1}]),
        ("comment", "身份证440305199001011234"),
        ("hall_code", "01"),
        ("version", 0),
    ],
)
def test_every_field_format_is_checked(field: str, value: object) -> None:
    record = gbt39046.evaluation(
        "0001",
        3,
        "440305",
        EvaluationRecord(evaluation_id=3, visit_id=3, level_gb=1, is_bad=False, channel="sms", at=NOW).model_dump(
            mode="json"
        ),
    )
    assert gbt39046.validate(record) == []
    assert [f for f, _ in gbt39046.validate({**record, field: value})] == [field]


def test_bad_signature_is_401_and_the_batch_waits(city_engine: Engine, platform: Platform, receiver: Receiver) -> None:
    body = body_bytes("testcity-202611-0001", "testcity", "2026-11", [])
    headers = signing.headers(b"not-the-key", "testcity", "testcity-202611-0001", body, int(time.time()))
    request = urllib.request.Request(platform.url, data=body, method="POST", headers=headers)
    import ssl

    context = ssl.create_default_context(cafile=str(platform.ca))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, context=context, timeout=5)
    assert refused.value.code == 401

    now = datetime.now(UTC)
    with city_engine.begin() as conn:
        conn.execute(
            insert(platform_batch).values(
                batch_id="testcity-202611-0901",
                month="2026-11",
                created_at=now,
                records=0,
                body=[],
                digest="-",
                state="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
    [attempt] = Uploader(city_engine, _settings(platform, key="wrong-key"), ManualClock(now)).run()
    assert attempt.status == 401 and attempt.state == "pending"  # a key rotation may fix it: retried later
    assert receiver.ledger.batches() == 0


def test_receiver_down_then_retried_later_nothing_lost_nothing_twice(
    city_engine: Engine, store: Store, platform: Platform, tmp_path: Path
) -> None:
    _month_of_ratings(store)
    now = datetime.now(UTC)
    made = export_month(city_engine, "2026-11", "testcity", now, batch_size=3)
    clock = ManualClock(now)
    uploader = Uploader(city_engine, _settings(platform, retry_base_s=60), clock)
    [down] = uploader.run()  # nobody listens: the first batch fails, the others wait their turn
    assert down.status is None and down.state == "pending" and "Connection refused" in down.response
    [second] = uploader.run()  # the next run tries the batch that waited, not the one in its backoff
    assert second.batch_id != down.batch_id and second.state == "pending"
    assert uploader.run() == []  # both in their backoff now: nothing is hammered

    data = tmp_path / "received.db"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "city.platform.receiver",
            "--port",
            str(platform.port),
            "--cert",
            str(platform.cert),
            "--key",
            str(platform.key),
            "--secret-file",
            str(platform.secret_file),
            "--data",
            str(data),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: _listening(platform.port), 20, "the receiver")
        clock.set(datetime.now(UTC) + timedelta(seconds=61))
        later = uploader.run()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert [a.state for a in later] == ["sent", "sent"] and later[0].attempt == 2
    assert set(_uploaded(city_engine).values()) == {"sent"} and len(made.batches) == 2
    stored = Ledger(str(data)).records()
    assert sorted(r["record_id"] for r in stored) == ["0001-E1", "0001-E2", "0001-E4", "0001-R2", "0002-E1"]


def _listening(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_the_command_line_exports_uploads_and_reports(
    city_url: str,
    city_engine: Engine,
    store: Store,
    platform: Platform,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from city.cli import app

    _month_of_ratings(store)
    monkeypatch.setenv("HALLQ_CITY_DATABASE_URL", city_url)
    for name, value in {
        "URL": platform.url,
        "SENDER": "testcity",
        "KEY_FILE": str(platform.secret_file),
        "CA_FILE": str(platform.ca),
    }.items():
        monkeypatch.setenv(f"HALLQ_PLATFORM_{name}", value)
    runner = CliRunner()
    out = tmp_path / "2026-11.json"
    exported = runner.invoke(app, ["platform", "export", "--month", "2026-11", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "新增 5 条记录，1 个批次" in exported.output and len(json.loads(out.read_text(encoding="utf-8"))) == 5
    assert "新增 0 条记录" in runner.invoke(app, ["platform", "export", "--month", "2026-11"]).output
    uploaded = runner.invoke(app, ["platform", "upload"])
    assert uploaded.exit_code == 0 and "sent" in uploaded.output, uploaded.output
    assert "testcity-202611-0001\t5\tsent\t1\t200" in runner.invoke(app, ["platform", "status"]).output
    bad = runner.invoke(app, ["platform", "export", "--month", "2026-13"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output
