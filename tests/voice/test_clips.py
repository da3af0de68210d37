"""A hall's recorded announcer: clips strung together, espeak-ng for what is missing, the chime first and
independent of speech. Clips are made at test time with espeak-ng and sox (no audio committed), some at
another rate, in stereo and with silence around them, as a phone recording would be."""

from __future__ import annotations

import array
import logging
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from hallcore.announce import call_speech
from kiosk.voice.announcer import Announcer
from kiosk.voice.clips import ClipSet, trim
from kiosk.voice.player import SilentPlayer
from kiosk.voice.tts import RATE, SpeechRenderer, VoiceSettings, VoiceUnavailable, chime

# unit → pinyin read into its clip
UNITS = {
    "请": "qing3",
    "号": "hao4",
    "到": "dao4",
    "窗口办理": "chuang1 kou3 ban4 li3",
    "重呼": "chong2 hu1",
    "A": "A",
    "零": "ling2",
    "幺": "yao1",
    "三": "san1",
}
CALL = call_speech("A001", 3)  # 请A零零幺号到三号窗口办理


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} not found: apt-get install {'sox' if name == 'sox' else 'espeak-ng'}"
    return found


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of clips: most at 22.05 kHz mono; 请 and 号 at 44.1 kHz stereo with half a second of silence
    before and after (sox), as a phone recording would be."""
    folder = tmp_path_factory.mktemp("clips")
    espeak, sox = _tool("espeak-ng"), _tool("sox")
    for unit, pinyin in UNITS.items():
        raw = folder / f"{unit}.raw.wav"
        subprocess.run([espeak, "-v", "cmn-latn-pinyin", "-w", str(raw), pinyin], check=True, capture_output=True)
        if unit in ("请", "号"):
            argv = [sox, str(raw), "-r", "44100", "-c", "2", str(folder / f"{unit}.wav"), "pad", "0.5", "0.5"]
            subprocess.run(argv, check=True, capture_output=True)
            raw.rename(folder / f"{unit}.source")  # the recording as espeak-ng made it (not a clip name)
        else:
            raw.rename(folder / f"{unit}.wav")
    return folder


def _frames(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return wav.getframerate(), wav.readframes(wav.getnframes())


def _copy(recorded: Path, target: Path, leave_out: tuple[str, ...] = ()) -> Path:
    target.mkdir()
    for clip in recorded.glob("*.wav"):
        if clip.stem not in leave_out:
            shutil.copy(clip, target / clip.name)
    return target


def test_a_call_is_the_halls_clips_joined_after_the_chime(recorded: Path, tmp_path: Path) -> None:
    renderer = SpeechRenderer(tmp_path / "cache", VoiceSettings(repeat=1), clips=recorded)
    assert renderer.clips is not None and set(renderer.clips.clips) == set(UNITS)
    path = renderer.render(CALL)
    rate, frames = _frames(path)
    assert rate == RATE
    parts = renderer.segments[path.name]
    assert [(p.kind, p.text) for p in parts] == [
        ("chime", ""),
        ("gap", ""),
        *[("clip", u) for u in ("请", "A", "零", "零", "幺", "号", "到", "三", "号", "窗口办理")],
    ]
    # The chime comes first, sample for sample, and each clip lies where the plan says, unchanged.
    bell = chime(RATE).tobytes()
    assert frames[: len(bell)] == bell
    for part in parts:
        if part.kind == "clip":
            assert frames[part.start * 2 : (part.start + part.frames) * 2] == renderer.clips.clips[part.text].frames
    assert sum(p.frames for p in parts) * 2 == len(frames)  # nothing else in the file


def test_recordings_at_another_rate_are_converted_and_trimmed(recorded: Path) -> None:
    clips = ClipSet(recorded, RATE)
    with wave.open(str(recorded / "请.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (44100, 2)
        padded = wav.getnframes() / wav.getframerate()
    source = array.array("h", _frames(recorded / "请.source")[1])
    kept = clips.clips["请"].samples
    # Back at 22.05 kHz, mono, and as long as the sound itself: the padding and espeak's own silence are gone.
    assert len(kept) / RATE < padded - 1.0
    assert len(kept) == pytest.approx(len(trim(source, RATE)), rel=0.02)
    assert max(abs(s) for s in kept) == pytest.approx(max(abs(s) for s in source), rel=0.05)


def test_units_without_a_clip_are_read_by_espeak_as_one_phrase(recorded: Path, tmp_path: Path) -> None:
    folder = _copy(recorded, tmp_path / "clips", leave_out=("零", "幺", "三"))
    renderer = SpeechRenderer(tmp_path / "cache", VoiceSettings(repeat=1), clips=folder)
    path = renderer.render(CALL)
    kinds = [(p.kind, p.text) for p in renderer.segments[path.name]]
    assert kinds == [
        ("chime", ""),
        ("gap", ""),
        ("clip", "请"),
        ("clip", "A"),
        ("espeak", "零零幺"),  # the three digits together, so they sound like one number
        ("clip", "号"),
        ("clip", "到"),
        ("espeak", "三"),
        ("clip", "号"),
        ("clip", "窗口办理"),
    ]
    espeak = next(p for p in renderer.segments[path.name] if p.kind == "espeak")
    assert espeak.frames > RATE * 0.5  # three syllables were really spoken


def test_recall_repeat_and_pause(recorded: Path, tmp_path: Path) -> None:
    renderer = SpeechRenderer(tmp_path / "cache", VoiceSettings(repeat=2, gap_s=0.5), clips=recorded)
    path = renderer.render(call_speech("A001", 3, recall=True))
    parts = renderer.segments[path.name]
    once = [(p.kind, p.text) for p in parts[2:]]
    assert once[:3] == [("clip", "重呼"), ("pause", "，"), ("clip", "请")]
    assert [p.kind for p in parts].count("chime") == 1  # one chime, then the call twice with a gap between
    assert [(p.text) for p in parts if p.kind == "clip"].count("重呼") == 2
    gaps = [p for p in parts[2:] if p.kind == "gap"]
    assert len(gaps) == 1 and gaps[0].frames == int(RATE * 0.5)


def test_a_halls_own_chime_replaces_the_synthesized_one(recorded: Path, tmp_path: Path) -> None:
    folder = _copy(recorded, tmp_path / "clips")
    sox = _tool("sox")
    subprocess.run(
        [sox, "-n", "-r", "16000", "-b", "16", "-c", "1", str(folder / "chime.wav"), "synth", "0.6", "sine", "880"],
        check=True,
        capture_output=True,
    )
    renderer = SpeechRenderer(tmp_path / "cache", VoiceSettings(repeat=1), clips=folder)
    path = renderer.render(CALL)
    first = renderer.segments[path.name][0]
    assert first.kind == "chime" and first.frames == pytest.approx(RATE * 0.6, abs=2)
    _, frames = _frames(path)
    assert renderer.clips is not None and renderer.clips.chime is not None
    assert frames[: first.frames * 2] == renderer.clips.chime.frames


def test_new_clips_are_a_new_rendering(recorded: Path, tmp_path: Path) -> None:
    folder = _copy(recorded, tmp_path / "clips", leave_out=("三",))
    before = SpeechRenderer(tmp_path / "cache", clips=folder).path_for(CALL)
    shutil.copy(recorded / "三.wav", folder / "三.wav")
    assert SpeechRenderer(tmp_path / "cache", clips=folder).path_for(CALL) != before


def test_bad_clips_are_left_out_with_a_reason(recorded: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _copy(recorded, tmp_path / "clips")
    (folder / "三.wav").write_bytes(b"RIFF not really a wave")
    shutil.copy(recorded / "请.wav", folder / "qing.wav")  # a name that is no unit
    with wave.open(str(folder / "到.wav"), "wb") as silent:
        silent.setnchannels(1)
        silent.setsampwidth(2)
        silent.setframerate(RATE)
        silent.writeframes(array.array("h", [0] * RATE).tobytes())
    with caplog.at_level(logging.WARNING, "hallq.voice"):
        clips = ClipSet(folder, RATE)
    assert "三" not in clips.clips and "到" not in clips.clips and "请" in clips.clips
    problems = " ".join(clips.problems)
    assert "三.wav" in problems and "qing.wav: 不是可用的语音片段名称" in problems and "到.wav: 只有静音" in problems
    assert "三.wav" in caplog.text


def test_without_espeak_the_clips_speak_and_a_missing_unit_still_chimes(
    recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no espeak-ng on this board
    with pytest.raises(VoiceUnavailable, match="espeak-ng"):
        SpeechRenderer(tmp_path / "plain")  # no clips: nothing could speak
    renderer = SpeechRenderer(tmp_path / "cache", VoiceSettings(repeat=1), clips=recorded)
    assert renderer.binary is None
    path = renderer.render(CALL)  # every unit recorded: espeak-ng is not needed
    assert [p.kind for p in renderer.segments[path.name]].count("espeak") == 0

    player = SilentPlayer("测试机没有扬声器")
    announcer = Announcer(renderer, player, repeat=1)
    announcer.start()
    try:
        announcer.announce(call_speech("A001", 7), key="c1")  # 七 has no clip and espeak-ng is missing
        assert announcer.wait_idle(10)
    finally:
        announcer.stop()
    item = announcer.history[-1]
    assert item.error is not None and "七" in item.error
    assert player.skipped == [renderer.chime_path()]  # the chime was played on its own
    _, frames = _frames(renderer.chime_path())
    assert frames == chime(RATE).tobytes()


def test_no_sound_device_is_said_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    player = SilentPlayer("本机没有可用的音频输出设备")
    with caplog.at_level(logging.DEBUG, "hallq.voice"):
        for name in ("a.wav", "b.wav", "c.wav"):
            player.play(tmp_path / name)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "只生成 WAV 文件" in warnings[0].getMessage()
    assert str(tmp_path) in warnings[0].getMessage()
    assert player.skipped == [tmp_path / n for n in ("a.wav", "b.wav", "c.wav")]
    told = SilentPlayer("本机没有可用的音频输出设备")
    told.tell(tmp_path)  # the display says it at start-up ...
    caplog.clear()
    with caplog.at_level(logging.DEBUG, "hallq.voice"):
        told.play(tmp_path / "d.wav")  # ... and not again at the first call
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_display_says_which_voice_and_that_nothing_plays(
    recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from kiosk.display.cli import make_announcer

    monkeypatch.setenv("HALLQ_AUDIO_PLAYER", "none")
    with caplog.at_level(logging.WARNING):
        announcer, problem, said = make_announcer(tmp_path / "cache", 1, recorded)
    assert announcer is not None and problem is None
    assert said.startswith(f"语音：录音片段 {len(UNITS)} 个（其余用 espeak-ng）")
    assert "只生成 WAV 文件" in said and str(tmp_path / "cache") in said
    assert len([r for r in caplog.records if "只生成 WAV 文件" in r.getMessage()]) == 1
    _, _, plain = make_announcer(tmp_path / "cache2", 1, tmp_path / "no-such-folder")
    assert plain.startswith("语音：espeak-ng；")
