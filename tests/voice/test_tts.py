"""Rendering with espeak-ng: real WAV files of a plausible length, cached by text."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from hallcore.announce import call_speech
from kiosk.voice.player import SilentPlayer, detect_player
from kiosk.voice.tts import SpeechRenderer, VoiceSettings, duration_s


def soxi_seconds(path: Path) -> float:
    soxi = shutil.which("soxi")
    assert soxi, "soxi not found: apt-get install sox"
    return float(subprocess.run([soxi, "-D", str(path)], capture_output=True, text=True, check=True).stdout)


def test_a_call_renders_to_a_plausible_wav(renderer: SpeechRenderer) -> None:
    path = renderer.render(call_speech("A012", 3), repeat=1)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.getframerate() >= 16000
        frames = wav.readframes(wav.getnframes())
    # 13 syllables at a calm hall pace plus the chime: a few seconds, not a blip and not a minute.
    seconds = duration_s(path)
    assert 3.0 < seconds < 9.0, seconds
    assert soxi_seconds(path) == pytest.approx(seconds, abs=0.01)
    assert max(abs(int.from_bytes(frames[i : i + 2], "little", signed=True)) for i in range(0, len(frames), 2)) > 3000


def test_repeats_and_recalls_make_longer_audio(renderer: SpeechRenderer) -> None:
    once = duration_s(renderer.render(call_speech("B100", 13), repeat=1))
    twice = duration_s(renderer.render(call_speech("B100", 13), repeat=2))
    recall = duration_s(renderer.render(call_speech("B100", 13, recall=True), repeat=1))
    chime_and_pause = 2 * 0.45 + 0.25
    speech = once - chime_and_pause
    assert twice == pytest.approx(once + speech + renderer.settings.gap_s, abs=0.05)
    assert recall > once + 0.3  # 重呼 comes first


def test_cache_by_text(renderer: SpeechRenderer) -> None:
    text = call_speech("C007", 20)
    assert not renderer.is_ready(text)
    first = renderer.render(text)
    stamp = first.stat().st_mtime_ns
    assert renderer.is_ready(text)
    assert renderer.render(text) == first and first.stat().st_mtime_ns == stamp
    assert renderer.render(call_speech("C008", 20)) != first


def test_settings_are_part_of_the_cache_key(tmp_path: Path) -> None:
    slow = SpeechRenderer(tmp_path, VoiceSettings(speed_wpm=120, chime=False))
    fast = SpeechRenderer(tmp_path, VoiceSettings(speed_wpm=200, chime=False))
    text = call_speech("A001", 1)
    assert duration_s(slow.render(text, 1)) > duration_s(fast.render(text, 1)) + 0.5


def test_no_audio_device_means_silent_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HALLQ_AUDIO_PLAYER", "none")
    player = detect_player()
    assert isinstance(player, SilentPlayer)
    player.play(tmp_path / "x.wav")
    assert player.skipped == [tmp_path / "x.wav"]
    monkeypatch.delenv("HALLQ_AUDIO_PLAYER")
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    auto = detect_player()  # this machine: whatever it has, choosing never fails
    assert auto.name in ("paplay", "aplay", "play", "none")
