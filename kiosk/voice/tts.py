"""Speech rendering: pinyin through espeak-ng into a WAV, with a two-tone chime in front and the call
repeated; files are cached by their text, so a call rendered ahead is ready at once."""

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

from kiosk.voice.pinyin import to_pinyin

log = logging.getLogger("hallq.voice")

VOICE = "cmn-latn-pinyin"  # `cmn` would read tone digits as English words


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
    """Renders texts to WAV files under cache_dir; thread-safe; one espeak-ng process per new text."""

    def __init__(self, cache_dir: Path, settings: VoiceSettings | None = None, max_files: int = 400) -> None:
        self.cache_dir = cache_dir
        self.settings = settings or VoiceSettings()
        self.max_files = max_files
        self.binary = espeak_binary()
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._rendered = 0
        cache_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, text: str, repeat: int | None = None) -> Path:
        """Where the rendering of this text (with these settings) lives."""
        s = self.settings
        key = f"{VOICE}|{s.speed_wpm}|{s.pitch}|{s.amplitude}|{s.gap_s}|{s.chime}|{repeat or s.repeat}|{text}"
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
                speech = self._espeak(to_pinyin(text))
                self._compose(speech, repeat or self.settings.repeat, target)
                self._rendered += 1
        with self._lock:
            self._locks.pop(target.name, None)
        if self._rendered % 50 == 0:
            self._prune()
        return target

    def _espeak(self, pinyin: str) -> tuple[wave._wave_params, bytes]:
        s = self.settings
        fd, name = tempfile.mkstemp(suffix=".wav", dir=self.cache_dir)
        os.close(fd)
        try:
            argv = [self.binary, "-v", VOICE, "-s", str(s.speed_wpm), "-p", str(s.pitch), "-a", str(s.amplitude)]
            result = subprocess.run([*argv, "-w", name, pinyin], capture_output=True, timeout=30, check=False)
            if result.returncode != 0:
                message = result.stderr.decode("utf-8", "replace").strip()
                raise VoiceUnavailable(f"espeak-ng 失败（{result.returncode}）：{message}")
            with wave.open(name, "rb") as wav:
                return wav.getparams(), wav.readframes(wav.getnframes())
        finally:
            with contextlib.suppress(OSError):
                os.unlink(name)

    def _compose(self, speech: tuple[wave._wave_params, bytes], repeat: int, target: Path) -> None:
        params, frames = speech
        if params.nchannels != 1 or params.sampwidth != 2:
            raise VoiceUnavailable(f"espeak-ng 输出格式异常：{params}")
        rate = params.framerate
        gap = b"\0\0" * int(rate * self.settings.gap_s)
        partial = target.with_suffix(f".{threading.get_ident()}.part")
        with wave.open(str(partial), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            if self.settings.chime:
                out.writeframes(chime(rate).tobytes() + b"\0\0" * int(rate * 0.25))
            for i in range(max(1, repeat)):
                out.writeframes(frames + (gap if i < repeat - 1 else b""))
        partial.replace(target)

    def _prune(self) -> None:
        with contextlib.suppress(OSError):  # another thread may remove a file while we sort
            files = sorted(self.cache_dir.glob("*.wav"), key=lambda p: p.stat().st_mtime)
            for old in files[: max(0, len(files) - self.max_files)]:
                old.unlink(missing_ok=True)


def duration_s(path: Path) -> float:
    """Length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
