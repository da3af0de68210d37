"""Nothing on the bus can crash the server: 10,000 fuzzed malformed requests, then a valid one."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.messages import Request
from tests.gateway.fixtures import Bus
from tests.gateway.test_gateway import ticket_count, ticket_request

ACTIONS = ["ticket.issue", "window.call_next", "window.finish", "window.transfer", "evaluation.submit", "x.y"]
DEVICES = ["kiosk-01", "caller-w05", "eval-w05", "printer-w05", "nosuch", "", None, 5]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Objects that look like requests but are wrong somewhere: bad ids, wrong types, bad values, junk keys.
request_like = st.fixed_dictionaries(
    {},
    optional={
        "ts": st.one_of(st.just("2026-11-23T09:00:00+08:00"), st.just("2026-11-23T09:00:00"), json_scalars),
        "request_id": st.one_of(st.uuids().map(str), st.text(max_size=80), json_scalars),
        "device_id": st.sampled_from(DEVICES),
        "group": st.one_of(st.sampled_from(["police", "consult", "nosuch"]), json_values),
        "item_code": json_values,
        "identity": st.one_of(json_values, st.fixed_dictionaries({"id_number": st.text(max_size=20)})),
        "window_id": st.one_of(st.sampled_from(["w05", "w03", "w99", "x"]), json_values),
        "outcome": json_values,
        "level": st.one_of(st.integers(-5, 10), json_values),
        "priority": json_values,
    },
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    request_like.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    st.text(max_size=100).map(lambda s: s.encode("utf-8", "surrogatepass") if s else b""),
)


def test_fuzzed_payloads_leave_the_server_answering(bus: Bus) -> None:
    handled = 0

    @settings(
        max_examples=10_000,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(action=st.sampled_from(ACTIONS), payload=payloads)
    def feed(action: str, payload: bytes) -> None:
        nonlocal handled
        bus.gateway._handle_request(f"hall/demo/request/{action}", payload)
        handled += 1

    feed()
    assert handled == 10_000
    # A few hundred more through the real broker and paho's network thread.
    kiosk, _ = bus.device("kiosk-01")
    for i in range(300):
        kiosk.publish(bus.topics.request("ticket.issue"), None) if i % 3 == 0 else kiosk.mqtt.publish(
            bus.topics.request("ticket.issue"), bytes([i % 256]) * (i % 50), qos=1
        )
    bus.gateway.drain(timeout=30)
    before = ticket_count(bus)
    reply = kiosk.request("ticket.issue", ticket_request("kiosk-01", group="consult"))
    assert reply.status == "ok" and reply.data is not None
    assert ticket_count(bus) == before + 1
    assert bus.gateway._worker.is_alive()
    assert Request.new_id() != Request.new_id()
