"""The generated broker configuration enforces PROTOCOL.md's access control on a real Mosquitto."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.cli import broker_app
from broker.dynsec import acl_roles, client_roles, password_fields
from broker.mosquitto import BrokerError, BrokerFiles, BrokerProcess, free_port, render
from broker.topics import Topics
from firmware_config.credentials import SERVER_USERNAME
from firmware_config.devices import ALLOWED_ACTIONS
from tests.bus.fixtures import DEMO_HALL, HallBroker, Probe

OK, NO_SUBSCRIBERS, NOT_AUTHORIZED = 0, 16, 135
ALL_ACTIONS = sorted({a for actions in ALLOWED_ACTIONS.values() for a in actions})
Connect = Callable[..., Probe]


def _server(broker: HallBroker, probe: Connect) -> Probe:
    """The server, listening to the whole hall, so an accepted publish is also seen delivered."""
    server = probe(broker, SERVER_USERNAME)
    assert server.subscribe(f"{broker.topics.root}/#") == 1
    return server


def test_server_publishes_and_subscribes_everything_of_the_hall(broker: HallBroker, probe: Connect) -> None:
    server = _server(broker, probe)
    t = broker.topics
    for topic in (
        t.call(),
        t.window_state("w03"),
        t.device("printer-w03", "job"),
        t.request("kiosk-01", "ticket.issue"),
    ):
        assert server.publish(topic) == OK
        assert server.expect(topic).topic == topic
    assert server.subscribe(t.devices("status")) == 1
    assert server.subscribe(t.requests()) == 1
    other = Topics("other")
    assert server.subscribe(other.device_all("kiosk-01")) == NOT_AUTHORIZED
    assert server.publish(other.call()) == NOT_AUTHORIZED


def test_kiosk_is_limited_to_its_own_topics_and_actions(broker: HallBroker, probe: Connect) -> None:
    server = _server(broker, probe)
    t = broker.topics
    kiosk = probe(broker, "kiosk-01")
    assert kiosk.publish(t.call()) == NOT_AUTHORIZED
    assert kiosk.publish(t.window_state("w01"), retain=True) == NOT_AUTHORIZED
    assert kiosk.publish(t.device("kiosk-02", "status")) == NOT_AUTHORIZED
    assert kiosk.publish(t.device("kiosk-01", "config")) == NOT_AUTHORIZED
    assert kiosk.publish(t.request("kiosk-01", "window.call_next")) == NOT_AUTHORIZED
    # v2: the topic proves the sender — another device's request topic, or v1's shared one, is closed.
    assert kiosk.publish(t.request("kiosk-02", "ticket.issue")) == NOT_AUTHORIZED
    assert kiosk.publish(t.request("caller-w16", "window.pause")) == NOT_AUTHORIZED
    assert kiosk.publish(f"{t.root}/request/ticket.issue") == NOT_AUTHORIZED
    assert kiosk.subscribe(t.device_all("kiosk-02")) == NOT_AUTHORIZED
    assert kiosk.subscribe(t.devices("status")) == NOT_AUTHORIZED
    assert kiosk.subscribe(t.requests()) == NOT_AUTHORIZED
    assert kiosk.subscribe(f"{t.root}/#") == NOT_AUTHORIZED
    for topic in (t.device("kiosk-01", "status"), t.device("kiosk-01", "event"), t.request("kiosk-01", "ticket.issue")):
        assert kiosk.publish(topic) == OK
        assert server.expect(topic).topic == topic
    assert kiosk.subscribe(t.device_all("kiosk-01")) == 1
    assert server.publish(t.device("kiosk-01", "reply"), b'{"status":"ok"}') == OK
    assert kiosk.expect(t.device("kiosk-01", "reply")).payload == b'{"status":"ok"}'


def test_request_actions_follow_the_device_type(broker: HallBroker, probe: Connect) -> None:
    t = broker.topics
    caller = probe(broker, "caller-w03")
    assert caller.publish(t.request("caller-w03", "window.call_next")) == NO_SUBSCRIBERS
    assert caller.publish(t.request("caller-w03", "ticket.issue")) == NO_SUBSCRIBERS
    assert caller.publish(t.request("caller-w03", "progress.query")) == NOT_AUTHORIZED
    # The attack of contract v1: caller-w01 pausing window 16 as caller-w16.
    assert caller.publish(t.request("caller-w16", "window.pause")) == NOT_AUTHORIZED
    evaluator = probe(broker, "eval-w03")
    assert evaluator.publish(t.request("eval-w03", "evaluation.submit")) == NO_SUBSCRIBERS
    assert evaluator.publish(t.request("eval-w03", "ticket.issue")) == NOT_AUTHORIZED
    assert evaluator.publish(t.request("eval-w04", "evaluation.submit")) == NOT_AUTHORIZED
    for device in ("display-w03", "hall-display-1", "printer-w03"):
        client = probe(broker, device)
        refused = [client.publish(t.request(device, a)) for a in ALL_ACTIONS]
        assert refused == [NOT_AUTHORIZED] * len(ALL_ACTIONS)
        assert client.publish(t.device(device, "availability"), retain=True) == NO_SUBSCRIBERS


def test_devices_read_public_retained_state(broker: HallBroker, probe: Connect) -> None:
    t = broker.topics
    server = probe(broker, SERVER_USERNAME)
    state = json.dumps({"window_id": "w03", "status": "open"}).encode()
    assert server.publish(t.window_state("w03"), state, retain=True) == NO_SUBSCRIBERS
    display = probe(broker, "display-w03")
    for public in t.public():
        assert display.subscribe(public) == 1
    message = display.expect(t.window_state("w03"))
    assert message.payload == state
    assert message.retain
    assert server.publish(t.call(), b'{"ticket":"A001"}') == OK
    assert display.expect(t.call()).payload == b'{"ticket":"A001"}'


@pytest.mark.parametrize(
    ("username", "password"),
    [("kiosk-01", "wrong-password"), ("no-such-device", "whatever"), (SERVER_USERNAME, ""), (None, None)],
    ids=["wrong-password", "unknown-user", "empty-password", "anonymous"],
)
def test_bad_logins_are_refused(broker: HallBroker, username: str | None, password: str | None) -> None:
    broker.account("kiosk-01")
    client = Probe(broker, username, password)
    try:
        assert client.connect() == NOT_AUTHORIZED  # mosquitto 2.0.11 answers 135 for every refused login
    finally:
        client.close()


def test_tls_listener_needs_the_hall_ca_and_a_password(tls_broker: HallBroker, probe: Connect) -> None:
    kiosk = probe(tls_broker, "kiosk-01", tls=True, cafile=tls_broker.cafile)
    assert kiosk.publish(tls_broker.topics.device("kiosk-01", "status")) == NO_SUBSCRIBERS
    refused = Probe(tls_broker, "kiosk-01", "wrong", tls=True, cafile=tls_broker.cafile)
    try:
        assert refused.connect() == NOT_AUTHORIZED
    finally:
        refused.close()
    untrusting = Probe(tls_broker, "kiosk-01", tls_broker.account("kiosk-01").password, tls=True)
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusting.connect()


def test_generated_security_matches_the_profiles(broker: HallBroker) -> None:
    config = json.loads(broker.files.security.read_text(encoding="utf-8"))
    device_ids = {d.id for d in broker.devices.devices}
    assert len(device_ids) == 91
    assert {c["username"] for c in config["clients"]} == device_ids | {SERVER_USERNAME}
    assert config["defaultACLAccess"] == {
        "publishClientSend": False,
        "publishClientReceive": False,
        "subscribe": False,
        "unsubscribe": True,
    }
    assert config["groups"] == []
    roles = {r["rolename"]: [(a["acltype"], a["topic"]) for a in r["acls"]] for r in config["roles"]}
    assert roles == acl_roles("demo", broker.devices)
    assert all(a["allow"] for r in config["roles"] for a in r["acls"])
    for client in config["clients"]:
        assert [r["rolename"] for r in client["roles"]] == client_roles(broker.devices)[client["username"]]
    for device_id in device_ids:
        own = roles[f"device-{device_id}"]
        prefix = broker.topics.device_all(device_id).removesuffix("#")
        assert all(topic.startswith(prefix) for _kind, topic in own)
    assert all(topic.startswith(f"{broker.topics.root}/") for acls in roles.values() for _k, topic in acls)
    assert "password" not in broker.files.conf.read_text(encoding="utf-8")
    secret = broker.account("kiosk-01").password
    assert secret not in broker.files.security.read_text(encoding="utf-8")


def test_password_hash_matches_mosquitto_ctrl(tmp_path: Path) -> None:
    path = tmp_path / "dynsec.json"
    subprocess.run(
        ["mosquitto_ctrl", "dynsec", "init", str(path), "admin", "s3cret-pw"], check=True, capture_output=True
    )
    admin = json.loads(path.read_text())["clients"][0]
    ours = password_fields("s3cret-pw", base64.b64decode(admin["salt"]), admin["iterations"])
    assert ours == {k: admin[k] for k in ("password", "salt", "iterations")}
    assert password_fields("other", base64.b64decode(admin["salt"]))["password"] != admin["password"]


def test_queued_qos1_message_survives_a_broker_restart(broker: HallBroker, probe: Connect) -> None:
    t = broker.topics
    job = t.device("printer-w03", "job")
    password = broker.account("printer-w03").password
    # Mosquitto 2.0.11 saves a session across restarts only if its CONNECT had clean_start=False.
    printer = Probe(broker, "printer-w03", password, "printer-w03", session_expiry=3600)
    assert printer.connect(clean_start=False) == OK
    assert not printer.session_present
    assert printer.subscribe(t.device_all("printer-w03")) == 1
    printer.close()
    server = probe(broker, SERVER_USERNAME)
    assert server.publish(job, b'{"job_id":"j1"}') == OK  # the offline session is a subscriber
    server.close()
    broker.restart()
    again = Probe(broker, "printer-w03", password, "printer-w03", session_expiry=3600)
    try:
        assert again.connect(clean_start=False) == OK
        assert again.session_present
        assert again.expect(job).payload == b'{"job_id":"j1"}'
    finally:
        again.close()


def _start_fails(files: BrokerFiles, match: str) -> str:
    process = BrokerProcess(files)
    try:
        with pytest.raises(BrokerError, match=match) as failure:
            process.start()
    finally:
        process.stop()
    return str(failure.value)


def test_start_failures_are_reported(broker: HallBroker, broker_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        files = render(broker.hall, broker.devices, tmp_path / "s2", broker_dir / "second", port)
        _start_fails(files, f"{port} 已被占用")
    files = render(broker.hall, broker.devices, tmp_path / "s2", broker_dir / "second", free_port())
    files.security.write_text("{not json", encoding="utf-8")
    assert "File is not valid JSON" in _start_fails(files, "无法读取账号与权限配置")
    files.conf.write_text(files.conf.read_text() + "no_such_option 1\n")
    assert "no_such_option" in _start_fails(files, "启动失败")


def test_out_dir_must_be_reachable_by_the_broker_user(broker: HallBroker, tmp_path: Path) -> None:
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    if os.geteuid() == 0:
        with pytest.raises(BrokerError, match="无法进入目录"):
            render(broker.hall, broker.devices, tmp_path / "s", hidden / "out", free_port())
    else:
        assert render(broker.hall, broker.devices, tmp_path / "s", hidden / "out", free_port()).conf.exists()


def test_cli_render_writes_the_broker_files(tmp_path: Path, broker_dir: Path) -> None:
    out = broker_dir / "cli"
    args = ["render", "--hall-dir", str(DEMO_HALL), "--secret-dir", str(tmp_path / "secret")]
    result = CliRunner().invoke(broker_app, [*args, "--out", str(out), "--port", "18883", "--tls"])
    assert result.exit_code == 0, result.output
    assert "Broker 配置已生成" in result.output
    conf = (out / "mosquitto.conf").read_text()
    assert "listener 18883 127.0.0.1" in conf
    assert "listener 8883 127.0.0.1" in conf
    assert "allow_anonymous false" in conf
    assert (tmp_path / "secret" / "tls" / "ca.crt").exists()
    bad = CliRunner().invoke(broker_app, ["render", "--hall-dir", str(tmp_path), "--out", str(out)])
    assert bad.exit_code == 1
    assert "无法生成 Broker 配置" in bad.output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_cli_run_stops_cleanly(tmp_path: Path, broker_dir: Path, sig: signal.Signals) -> None:
    port, out = free_port(), broker_dir / "run"
    cmd = [sys.executable, "-c", "from broker.cli import broker_app; broker_app()", "run"]
    cmd += ["--hall-dir", str(DEMO_HALL), "--secret-dir", str(tmp_path / "s"), "--out", str(out)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "broker did not come up"
                time.sleep(0.1)
        time.sleep(0.2)  # let the CLI reach its wait
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # a terminal's Ctrl+C reaches the whole foreground group
        else:
            proc.send_signal(sig)
        output = proc.communicate(timeout=15)[0].decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, output
    assert "Broker 已启动" in output
    assert "Broker 已停止" in output
    assert "terminating" in (out / "mosquitto.log").read_text()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_a_device_cannot_take_over_another_devices_session(broker: HallBroker) -> None:
    # kiosk-01's valid password, but printer-w03's client id: refused, so the printer keeps its session.
    thief = Probe(broker, "kiosk-01", broker.account("kiosk-01").password, client_id="printer-w03")
    try:
        assert thief.connect() == 135
    finally:
        thief.close()
    honest = Probe(broker, "kiosk-01", broker.account("kiosk-01").password, client_id="kiosk-01")
    try:
        assert honest.connect() == 0
    finally:
        honest.close()
