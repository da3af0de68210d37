"""大字版 voice guidance: each step is read once through the hall's offline TTS (espeak-ng into WAV files,
played by the machine's player — silent here), never the citizen's name or ID number; the standard mode is
quiet."""

from __future__ import annotations

import wave
from pathlib import Path

from hallcore.announce import spoken_ticket
from kiosk.terminal.guidance import PROMPTS, VoiceGuide
from kiosk.voice.player import SilentPlayer
from tests.kiosk.fakes import PERSON_ID, PERSON_NAME, Card, FakeBus, make_flows

RESIDENCE = "11440300MB2D41730K000172102000000"
TICKET = {"ticket": "A012", "group": "police", "group_name": "公安服务", "waiting_ahead": 2, "print_job_id": "j"}


def test_each_step_is_spoken_in_elderly_mode(tmp_path: Path) -> None:
    player = SilentPlayer("测试机没有扬声器")
    voice = VoiceGuide.offline(tmp_path / "voice", player)
    flows, _, _ = make_flows(tmp_path, FakeBus(answers={"ticket.issue": TICKET}), face_checkin=False)
    flows.session.elderly = True
    flows.session.listeners.append(lambda state: voice.follow(state, flows.session.elderly))
    try:
        flows.start("ticket")
        flows.card_presented(Card())
        flows.choose_domain("residence")
        flows.choose_item(RESIDENCE)
        flows.confirm_ticket()
        assert voice.wait_idle(60)
        said = voice.said
        assert said[:4] == [PROMPTS["identity"], PROMPTS["domains"], PROMPTS["items"], PROMPTS["confirm"]]
        assert said[-1] == f"{PROMPTS['ticket']}您的号码是{spoken_ticket('A012')}，请留意叫号。"
        assert len(said) == len(set(said))  # each step once
        assert not any(PERSON_NAME in s or PERSON_ID in s or "李" in s for s in said)
        played = player.skipped
        assert len(played) == len(said)
        for path in played:
            with wave.open(str(path), "rb") as wav:
                assert wav.getnframes() / wav.getframerate() > 0.5  # real speech, rendered offline
    finally:
        voice.close()


def test_standard_mode_is_quiet(tmp_path: Path) -> None:
    voice = VoiceGuide.offline(tmp_path / "voice", SilentPlayer("测试"))
    flows, _, _ = make_flows(tmp_path)
    flows.session.listeners.append(lambda state: voice.follow(state, flows.session.elderly))
    flows.start("guide")
    flows.choose_domain("residence")
    assert voice.said == []
    voice.close()
