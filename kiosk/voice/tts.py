"""Speech rendering: the hall's recorded clips where it has them (kiosk.voice.clips), pinyin through espeak-ng
for the rest, into one WAV with a chime in front and the call repeated; files are cached by their text, so a
call rendered ahead is ready at once. The chime does not depend on speech: `chime_path()` is played alone
when a call's speech cannot be rendered."""

from __future__ import annotations

import array
import contextlib
import functools
import hashlib
import logging
import math
import os
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from kiosk.voice.clips import ClipSet, resample
from kiosk.voice.pinyin import to_pinyin

log = logging.getLogger("hallq.voice")

VOICE = "cmn-latn-pinyin"  # `cmn` would read tone digits as English words
RATE = 22050  # espeak-ng's own rate; recorded clips are converted to it
PAUSE_S = 0.25  # a comma in the speech text (重呼，请…) between clips


class VoiceUnavailable(RuntimeError):
    """espeak-ng is missing or failed: no speech can be rendered."""


@dataclass(frozen=True)
class VoiceSettings:
    """How calls sound."""

    repeat: int = 2  # each call is read this many times
    speed_wpm: int = 150  # slower than espeak's 175: halls echo
    pitch: int = 50
    amplitude: int = 120
    gap_s: float = 0.8  # silence between repeats
    chime: bool = True  # the 叮咚 before a call


@dataclass(frozen=True)
class Segment:
    """Where one part of a rendered call lies in its WAV (in frames): chime, clip, espeak, pause or gap."""

    kind: str
    text: str
    start: int
    frames: int


def espeak_binary() -> str:
    """The espeak-ng executable, or VoiceUnavailable with what to install."""
    found = shutil.which("espeak-ng")
    if not found:
        raise VoiceUnavailable(
            "未找到 espeak-ng，无法语音叫号：请安装 Debian 软件包 espeak-ng（apt-get install espeak-ng）"
        )
    return found


@functools.lru_cache(maxsize=4)
def chime(rate: int, seconds: float = 0.45) -> array.array[int]:
    """A soft two-tone 叮咚 (E6 then C6, each decaying), 16-bit mono samples."""
    samples: array.array[int] = array.array("h")
    for freq in (1318.5, 1046.5):
        count = int(rate * seconds)
        for i in range(count):
            t = i / rate
            envelope = math.exp(-4.5 * t / seconds) * min(1.0, i / (rate * 0.005))
            samples.append(int(9000 * envelope * math.sin(2 * math.pi * freq * t)))
    return samples


class SpeechRenderer:
    """Renders texts to WAV files under cache_dir; thread-safe; one espeak-ng process per new text (or per
    run of text the hall's clips do not cover). Without clips espeak-ng is required; with clips it is only
    needed for what they miss."""

    def __init__(
        self,
        cache_dir: Path,
        settings: VoiceSettings | None = None,
        max_files: int = 400,
        clips: ClipSet | Path | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self.settings = settings or VoiceSettings()
        self.max_files = max_files
        self.clips = ClipSet(clips, RATE) if isinstance(clips, Path) else clips
        self.binary: str | None = None
        self.espeak_problem: str | None = None
        try:
            self.binary = espeak_binary()
        except VoiceUnavailable as exc:
            if not self.clips:
                raise
            self.espeak_problem = str(exc)  # the clips speak; a unit they miss cannot be read
        self.segments: dict[str, tuple[Segment, ...]] = {}  # by file name: what each rendering is made of
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._rendered = 0
        cache_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, text: str, repeat: int | None = None) -> Path:
        """Where the rendering of this text (with these settings) lives."""
        s = self.settings
        clips = self.clips.fingerprint() if self.clips else ""
        key = f"{VOICE}|{s.speed_wpm}|{s.pitch}|{s.amplitude}|{s.gap_s}|{s.chime}|{repeat or s.repeat}|{clips}|{text}"
        return self.cache_dir / f"{hashlib.sha1(key.encode('utf-8')).hexdigest()[:20]}.wav"

    def is_ready(self, text: str, repeat: int | None = None) -> bool:
        """True when the text is already rendered."""
        return self.path_for(text, repeat).exists()

    def render(self, text: str, repeat: int | None = None) -> Path:
        """The WAV of a text read `repeat` times (cached)."""
        target = self.path_for(text, repeat)
        if target.exists():
            return target
        with self._lock:  # one lock per file: different texts render in parallel (a call never waits)
            lock = self._locks.setdefault(target.name, threading.Lock())
        with lock:
            if not target.exists():
                frames, parts = self._speech(text)
                self._compose(frames, parts, repeat or self.settings.repeat, target)
                self._rendered += 1
        with self._lock:
            self._locks.pop(target.name, None)
        if self._rendered % 50 == 0:
            self._prune()
        return target

    def chime_path(self) -> Path:
        """The chime alone (the hall's chime.wav, else the synthesized 叮咚): what plays when speech fails."""
        target = self.cache_dir / f"chime-{hashlib.sha1(self._chime().tobytes()).hexdigest()[:12]}.wav"
        if not target.exists():
            partial = target.with_suffix(f".{threading.get_ident()}.part")
            with wave.open(str(partial), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE)
                out.writeframes(self._chime().tobytes())
            partial.replace(target)
        return target

    def _chime(self) -> array.array[int]:
        return self.clips.chime.samples if self.clips and self.clips.chime is not None else chime(RATE)

    def _speech(self, text: str) -> tuple[bytes, list[tuple[str, str, int]]]:
        """The text once, as 16-bit mono frames at RATE, and its parts (kind, text, frames)."""
        if not self.clips:
            frames = self._espeak(to_pinyin(text))
            return frames, [("espeak", text, len(frames) // 2)]
        chunks: list[bytes] = []
        parts: list[tuple[str, str, int]] = []
        for piece in self.clips.pieces(text):
            if piece.kind == "clip":
                data = self.clips.clips[piece.text].frames
            elif piece.kind == "pause":
                data = b"\0\0" * int(RATE * PAUSE_S)
            else:
                pinyin = to_pinyin(piece.text)
                if not pinyin:
                    continue
                if self.binary is None:
                    raise VoiceUnavailable(f"没有“{piece.text}”的录音片段，且{self.espeak_problem}")
                data = self._espeak(pinyin)
            chunks.append(data)
            parts.append((piece.kind, piece.text, len(data) // 2))
        return b"".join(chunks), parts

    def _espeak(self, pinyin: str) -> bytes:
        s = self.settings
        assert self.binary is not None
        fd, name = tempfile.mkstemp(suffix=".wav", dir=self.cache_dir)
        os.close(fd)
        try:
            argv = [self.binary, "-v", VOICE, "-s", str(s.speed_wpm), "-p", str(s.pitch), "-a", str(s.amplitude)]
            result = subprocess.run([*argv, "-w", name, pinyin], capture_output=True, timeout=30, check=False)
            if result.returncode != 0:
                message = result.stderr.decode("utf-8", "replace").strip()
                raise VoiceUnavailable(f"espeak-ng 失败（{result.returncode}）：{message}")
            with wave.open(name, "rb") as wav:
                params, frames = wav.getparams(), wav.readframes(wav.getnframes())
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)
        if params.nchannels != 1 or params.sampwidth != 2:
            raise VoiceUnavailable(f"espeak-ng 输出格式异常：{params}")
        if params.framerate != RATE:
            frames = resample(array.array("h", frames), params.framerate, RATE).tobytes()
        return frames

    def _compose(self, frames: bytes, parts: list[tuple[str, str, int]], repeat: int, target: Path) -> None:
        gap = b"\0\0" * int(RATE * self.settings.gap_s)
        segments: list[Segment] = []
        at = 0

        def add(kind: str, text: str, count: int) -> None:
            nonlocal at
            segments.append(Segment(kind, text, at, count))
            at += count

        partial = target.with_suffix(f".{threading.get_ident()}.part")
        with wave.open(str(partial), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            if self.settings.chime:
                bell = self._chime().tobytes()
                out.writeframes(bell + b"\0\0" * int(RATE * 0.25))
                add("chime", "", len(bell) // 2)
                add("gap", "", int(RATE * 0.25))
            for i in range(max(1, repeat)):
                out.writeframes(frames + (gap if i < repeat - 1 else b""))
                for kind, text, count in parts:
                    add(kind, text, count)
                if i < repeat - 1:
                    add("gap", "", len(gap) // 2)
        partial.replace(target)
        with self._lock:
            self.segments[target.name] = tuple(segments)
            while len(self.segments) > self.max_files:
                self.segments.pop(next(iter(self.segments)))

    def _prune(self) -> None:
        with contextlib.suppress(OSError):  # another thread may remove a file while we sort
            files = sorted(self.cache_dir.glob("*.wav"), key=lambda p: p.stat().st_mtime)
            for old in files[: max(0, len(files) - self.max_files)]:
                old.unlink(missing_ok=True)


def duration_s(path: Path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
