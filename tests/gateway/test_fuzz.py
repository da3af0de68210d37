"""Nothing on the bus can crash the server, and every identifiable request is answered (contract v2):
3,000 fuzzed requests on every action straight into the gateway, then 2,100 through the real broker
from real device accounts, then a valid request."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.messages import MAX_PAYLOAD_BYTES, Reply
from firmware_config.devices import ALLOWED_ACTIONS
from tests.gateway.fixtures import Bus, Inbox
from tests.gateway.test_gateway import ticket_count, ticket_request

KNOWN_ACTIONS = sorted({a for actions in ALLOWED_ACTIONS.values() for a in actions})
ACTIONS = [*KNOWN_ACTIONS, "x.y", "window.explode", "ticket"]  # every action, and some that do not exist
DEVICES = ["kiosk-01", "caller-w05", "eval-w05", "printer-w05"]
HUGE = [2**63, 2**70, -(2**64), 10**30]
IN_FLIGHT = 50  # requests a device may have unanswered at once in the broker test

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from(HUGE),
    st.floats(allow_nan=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
deep = st.integers(50, 5000).map(lambda n: "[" * n + "]" * n)  # deep nesting: json's recursion limit
deep_request = st.builds(lambda rid, nested: f'{{"request_id": "{rid}", "group": {nested}}}'.encode(), st.uuids(), deep)
# Objects that look like requests but are wrong somewhere: bad ids, wrong types, bad values, junk keys.
request_like = st.fixed_dictionaries(
    {"request_id": st.uuids().map(str)},
    optional={
        "ts": st.one_of(st.just("2026-11-23T09:00:00+08:00"), st.just("2026-11-23T09:00:00"), json_scalars),
        "device_id": st.sampled_from([*DEVICES, "kiosk-02", "", None, 5]),
        "group": st.one_of(st.sampled_from(["police", "consult", "nosuch"]), json_values),
        "item_code": json_values,
        "identity": st.one_of(json_values, st.fixed_dictionaries({"id_number": st.text(max_size=20)})),
        "window_id": st.one_of(st.sampled_from(["w05", "w03", "w99", "x"]), json_values),
        "visit_id": st.one_of(st.sampled_from(HUGE), json_values),
        "ticket_id": st.one_of(st.sampled_from(HUGE), json_values),
        "ticket": json_values,
        "outcome": json_values,
        "level": st.one_of(st.integers(-5, 10), json_values),
        "indicators": json_values,
        "materials": st.one_of(st.lists(st.text(max_size=300), max_size=80), json_values),
        "serial_no": st.one_of(st.text(min_size=60, max_size=300), json_values),
        "comment": st.text(max_size=800),
    },
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    request_like.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    deep_request,
    deep.map(str.encode),
    st.text(max_size=100).map(lambda s: s.encode("utf-8", "surrogatepass") if s else b""),
)
FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, f"bad input logged as an error: {errors[0].getMessage()} {errors[0].exc_info}"


def test_every_fuzzed_request_gets_exactly_one_reply(bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    answered: list[tuple[str, Reply]] = []
    reply = bus.gateway._reply
    bus.gateway._reply = lambda device, r: (answered.append((device, r)), reply(device, r))[1]  # type: ignore[method-assign, func-returns-value]
    fed = 0

    @settings(FUZZ_SETTINGS, max_examples=3_000)
    @given(device=st.sampled_from(DEVICES), action=st.sampled_from(ACTIONS), payload=payloads)
    def feed(device: str, action: str, payload: bytes) -> None:
        nonlocal fed
        before = len(answered)
        bus.gateway._handle_request(f"hall/demo/device/{device}/request/{action}", payload)
        assert len(answered) == before + 1, f"{action} from {device}: {payload[:80]!r} got no reply"
        to, r = answered[-1]
        assert to == device  # the answer goes to the topic's device, whatever the payload says
        if _object(payload) is None or action not in ALLOWED_ACTIONS[bus.devices.get(device).type]:
            assert r.status == "error" and r.error is not None
            assert r.error.code in ("invalid", "forbidden") and r.error.message
        fed += 1

    feed()
    assert fed == 3_000
    _no_tracebacks(caplog)
    bus.gateway._reply = reply  # type: ignore[method-assign]
    _still_answers(bus)


def test_fuzz_through_the_broker_from_real_accounts(bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    """2,100 generated payloads on the devices' own request topics over the real Mosquitto: each one that
    carries a request_id gets exactly one reply with that id on the sender's reply topic. Each device keeps
    at most IN_FLIGHT requests unanswered, as a real device does (a flood beyond the broker's queue for the
    server would be dropped by the broker, not by the server)."""
    caplog.set_level(logging.WARNING)
    senders = {
        d: bus.device(d, bus.topics.device(d, "reply"), replies=False) for d in ("kiosk-01", "caller-w05", "eval-w05")
    }
    sent: dict[str, list[str]] = {d: [] for d in senders}

    @settings(FUZZ_SETTINGS, max_examples=700)
    @given(payload=request_like)
    def publish(payload: dict) -> None:
        for device, (client, inbox) in senders.items():
            actions = ALLOWED_ACTIONS[bus.devices.get(device).type]
            action = actions[len(sent[device]) % len(actions)]
            body = {**payload, "request_id": str(uuid.uuid4())}
            _wait_count(inbox, len(sent[device]) - IN_FLIGHT)
            client.mqtt.publish(bus.topics.request(device, action), json.dumps(body, ensure_ascii=False), qos=1)
            sent[device].append(body["request_id"])

    publish()
    assert sum(len(ids) for ids in sent.values()) == 2100
    bus.gateway.drain(timeout=120)
    for device, (_, inbox) in senders.items():
        ids = [json.loads(raw)["request_id"] for _, raw in _wait_count(inbox, len(sent[device]))]
        assert sorted(ids) == sorted(sent[device]), f"{device}: a request got no reply or two"
    _no_tracebacks(caplog)
    _still_answers(bus)


def test_oversized_and_deep_payloads_are_refused_without_harm(bus: Bus, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    kiosk, inbox = bus.device("kiosk-01", bus.topics.device("kiosk-01", "reply"), replies=False)
    topic = bus.topics.request("kiosk-01", "ticket.issue")
    deep_id = str(uuid.uuid4())
    nested = f'{{"request_id": "{deep_id}", "group": {"[" * 10_000 + "]" * 10_000}}}'
    kiosk.mqtt.publish(topic, nested, qos=1)
    big_id = str(uuid.uuid4())
    big = json.dumps({"request_id": big_id, "group": "x" * MAX_PAYLOAD_BYTES})
    kiosk.mqtt.publish(topic, big, qos=1)
    huge_id = str(uuid.uuid4())
    huge = json.dumps({"request_id": huge_id, "visit_id": 2**70, "level": 5, "ts": "2026-11-23T09:00:00+08:00"})
    kiosk.mqtt.publish(bus.topics.request("kiosk-01", "evaluation.submit"), huge, qos=1)
    bus.gateway.drain()
    deep_reply = inbox.wait_for(lambda t, p: p is not None and p["request_id"] == deep_id)
    assert deep_reply is not None and deep_reply["error"]["code"] == "invalid"
    huge_reply = inbox.wait_for(lambda t, p: p is not None and p["request_id"] == huge_id)
    assert huge_reply is not None and huge_reply["error"]["code"] == "invalid"
    assert "visit_id" in huge_reply["error"]["message"]
    # Over 64 KiB: the broker refuses the packet, or the server answers `invalid` — never a ticket.
    big_replies = [p for t, p in inbox.messages if json.loads(p)["request_id"] == big_id]
    assert all(json.loads(p)["error"]["code"] == "invalid" for p in big_replies)
    _no_tracebacks(caplog)
    _still_answers(bus)


def _object(payload: bytes) -> dict | None:
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) and isinstance(value.get("request_id"), str) else None


def _wait_count(inbox: Inbox, count: int) -> list[tuple[str, bytes]]:
    with inbox.cond:
        assert inbox.cond.wait_for(lambda: len(inbox.messages) >= count, 60), f"{len(inbox.messages)} of {count}"
        return list(inbox.messages)


def _still_answers(bus: Bus) -> None:
    kiosk, _ = bus.device("kiosk-03")
    before = ticket_count(bus)
    reply = kiosk.request("ticket.issue", ticket_request("kiosk-03", group="consult"))
    assert reply.status == "ok" and reply.data is not None
    assert ticket_count(bus) == before + 1
    assert bus.gateway._worker.is_alive()
