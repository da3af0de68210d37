"""The exported JSON Schemas (what device makers build against) validate real traffic from the bus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from broker.client import BusClient
from broker.messages import PAYLOADS, DeviceStatus, ServerAvailability, export_schemas
from tests.gateway.fixtures import Bus, Inbox
from tests.gateway.test_gateway import ticket_request, time_now, window_request
from tests.integration.helpers import id_number


def pattern_of(topic: str) -> str:
    """hall/demo/device/kiosk-01/reply → device/{device}/reply,
    device/caller-w05/request/window.finish → device/{device}/request/window.*"""
    rest = topic.removeprefix("hall/demo/")
    rest = re.sub(r"^device/[^/]+/", "device/{device}/", rest)
    rest = re.sub(r"^window/[^/]+/state$", "window/{window}/state", rest)
    return re.sub(r"^device/\{device\}/request/window\.[a-z_]+$", "device/{device}/request/window.*", rest)


def test_schemas_validate_captured_traffic(bus: Bus, tmp_path: Path) -> None:
    # A tap on everything of the hall, with the server's own credentials (the only account that may read all).
    tap = BusClient(
        bus.broker.bus_settings("contract-tap", bus.broker.server_account()),
        "hall/demo/server/tap",  # its own availability; not part of the contract
        lambda s: ServerAvailability(ts=time_now(), state=s, version="tap"),  # type: ignore[arg-type]
    )
    captured = Inbox()
    tap.subscribe("hall/demo/#", captured.add)
    tap.start()
    try:
        kiosk, _ = bus.device("kiosk-01")
        caller, _ = bus.device("caller-w05")
        printer, _ = bus.device("printer-kiosk-01", replies=False)
        printer.publish(
            bus.topics.device("printer-kiosk-01", "status"),
            DeviceStatus(ts=time_now(), paper="near_end", cover="closed"),
            retain=True,
        )
        kiosk.request(
            "ticket.issue",
            ticket_request("kiosk-01", group="police", identity={"method": "id_card", "id_number": id_number(3)}),
        )
        kiosk.request("ticket.issue", ticket_request("kiosk-01", group="police"))  # an error reply
        caller.request("window.call_next", window_request("caller-w05", "w05"))
        caller.request("window.recall", window_request("caller-w05", "w05"))
        caller.request("window.start", window_request("caller-w05", "w05"))
        caller.request("window.finish", window_request("caller-w05", "w05", outcome="受理"))
        bus.gateway.drain()
        captured.wait_for(lambda t, p: t.endswith("/call") and p is not None and p["recall"])
    finally:
        tap.stop()

    schemas_dir = tmp_path / "schemas"
    export_schemas(schemas_dir)
    index = json.loads((schemas_dir / "index.json").read_text(encoding="utf-8"))
    seen: set[str] = set()
    for topic, raw in captured.messages:
        if topic == "hall/demo/server/tap" or not raw:
            continue
        pattern = pattern_of(topic)
        assert pattern in PAYLOADS, f"traffic on a topic outside the contract: {topic}"
        schema = json.loads((schemas_dir / index[f"hall/{{hall}}/{pattern}"]).read_text(encoding="utf-8"))
        jsonschema.validate(json.loads(raw), schema)
        seen.add(pattern)
    expected = {
        "server/availability",
        "device/{device}/availability",
        "device/{device}/status",
        "device/{device}/config",
        "device/{device}/request/ticket.issue",
        "device/{device}/request/window.*",
        "device/{device}/reply",
        "device/{device}/job",
        "window/{window}/state",
        "queue/state",
        "call",
        "calls/recent",
        "catalog/version",
    }
    assert expected <= seen, f"not exercised: {expected - seen}"


def test_schemas_reject_what_the_contract_forbids(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    index = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    call = json.loads((tmp_path / index["hall/{hall}/call"]).read_text(encoding="utf-8"))
    good = {
        "ts": "2026-11-23T09:00:00+08:00",
        "call_id": "1",
        "ticket": "A001",
        "window_id": "w05",
        "window_name": "5号窗口",
        "text": "请A001号到5号窗口办理",
        "speech": "请A零零幺号到五号窗口办理",
    }
    jsonschema.validate(good, call)
    for broken in ({k: v for k, v in good.items() if k != "ticket"}, {**good, "recall": "yes"}):
        try:
            jsonschema.validate(broken, call)
            raise AssertionError(f"schema accepted {broken}")
        except jsonschema.ValidationError:
            pass
    evaluation = json.loads(
        (tmp_path / index["hall/{hall}/device/{device}/request/evaluation.submit"]).read_text(encoding="utf-8")
    )
    assert evaluation["properties"]["level"]["maximum"] == 5 and evaluation["properties"]["level"]["minimum"] == 1


def test_committed_schemas_are_the_models_of_contract_v2(tmp_path: Path) -> None:
    """broker/schema/ is what device makers read: `make schema` regenerates it; it never drifts."""
    committed = Path(__file__).resolve().parents[2] / "broker" / "schema"
    export_schemas(tmp_path)
    fresh = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()}
    assert {p.name: p.read_text(encoding="utf-8") for p in committed.iterdir()} == fresh, "run `make schema`"
    index = json.loads(fresh["index.json"])
    assert "hall/{hall}/device/{device}/request/ticket.issue" in index
    assert not any(topic.startswith("hall/{hall}/request/") for topic in index)  # v1's shared topic is gone
    ticket = json.loads(fresh[index["hall/{hall}/device/{device}/request/ticket.issue"]])
    assert ticket["$id"].startswith("hallq/contract/v2/") and "device_id" not in ticket.get("required", [])
    state = json.loads(fresh[index["hall/{hall}/window/{window}/state"]])
    assert {"phase", "called_at"} <= set(state["properties"])
