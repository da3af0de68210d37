"""Face check-in in the kiosk's flow with the real pieces: the card read from the ID reader simulator on a
pty (its photo from the simulator's WLT plug-in) and kiosk.face on the camera simulator. The live face is
compared with the card just read; a mismatch falls back to the card, never blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.idcard.driver import SamvReader
from kiosk.idcard.simulator import IdCardSimulator
from kiosk.terminal.hardware import SIM_PHOTO_DECODER, FaceOnce
from tests.kiosk.fakes import make_flows


@pytest.fixture
def card() -> Iterator[Any]:
    """The simulator's "resident" card, read over SAM_V frames, with its photo."""
    with IdCardSimulator() as sim:
        reader = SamvReader(sim.port, 115200, SIM_PHOTO_DECODER)
        try:
            sim.insert("resident")
            read = reader.read_card()
            assert read is not None and read.photo
            yield read
        finally:
            reader.close()


@pytest.mark.parametrize(("camera", "accepted"), [("sim:live_both", True), ("sim:biden", False)])
def test_face_against_the_card(card: Any, tmp_path: Path, camera: str, accepted: bool) -> None:
    flows, _, _ = make_flows(tmp_path)
    flows.face_factory = lambda: FaceOnce(camera)
    messages: list[str] = []
    flows.session.listeners.append(lambda s: messages.append(s.face or ""))
    flows.start("ticket")
    flows.card_presented(card)
    assert flows.face_possible() and flows.state.screen == "identity"
    flows.start_face()
    assert flows.state.screen == "domains"  # on either way: face is never the only way in
    assert flows.state.person.method == ("face" if accepted else "id_card")
    assert any(m for m in messages[:-1])  # the steps were shown while it ran
    if not accepted:
        assert "已按身份证继续办理" in (flows.state.face or "")
