"""A hall's own recorded announcer: a folder of short WAV clips, one per spoken unit, which the renderer
strings together for a call; anything without a clip is read by espeak-ng.

The folder is `voice/` in the hall folder (or `hallq display --voice-clips DIR`). File names are the unit
they say, as it is written in a call's speech text (`请A零零幺号到三号窗口办理`, `重呼，请…`):

| file | says |
|---|---|
| `请.wav`, `号.wav`, `到.wav`, `窗口办理.wav`, `重呼.wav` | the call's words |
| `零.wav`, `幺.wav`, `二.wav` … `九.wav` | the ticket's digits, one by one (1 is 幺) |
| `一.wav`, `十.wav`, `百.wav` | for window numbers read as numerals (十三号窗口, 一百零五) |
| `A.wav` … `Z.wav` | the ticket's letters |
| `chime.wav` | optional: the hall's own 叮咚 before each call (else a synthesized one) |

Any rate, 8 or 16 bit, mono or stereo: clips are converted once to the renderer's rate (16-bit mono) and
their leading and trailing silence is trimmed so they join without gaps."""

from __future__ import annotations

import array
import logging
import string
import wave
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("hallq.voice")

WORDS = ("窗口办理", "重呼", "请", "号", "到")
DIGITS = tuple("零幺一二三四五六七八九十百")
LETTERS = tuple(string.ascii_uppercase)
UNITS: tuple[str, ...] = (*WORDS, *DIGITS, *LETTERS)  # every name a clip may have (longest words first)
CHIME = "chime"
PAUSES = set("，,。；;、")
SILENCE = 300  # samples quieter than this (of 32767) at a clip's ends are trimmed
EDGE_S = 0.02  # kept around the sound so a word's attack and decay are not cut


@dataclass(frozen=True)
class Clip:
    """One recorded unit, ready to join: 16-bit mono samples at the renderer's rate."""

    unit: str
    samples: array.array[int]
    source: Path

    @property
    def frames(self) -> bytes:
        """The samples as WAV frame bytes (little-endian)."""
        return self.samples.tobytes()


@dataclass(frozen=True)
class Piece:
    """One part of a call: a clip, a run of text espeak-ng reads, or a pause."""

    kind: str  # clip / espeak / pause
    text: str


def _read(path: Path) -> tuple[array.array[int], int]:
    """16-bit mono samples and the rate of a WAV file (8-bit and stereo converted)."""
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    if width == 2:
        samples = array.array("h", raw)
    elif width == 1:
        samples = array.array("h", ((b - 128) << 8 for b in raw))
    else:
        raise ValueError(f"{width * 8} 位采样不受支持（请用 8 或 16 位 WAV）")
    if channels > 1:
        mixed = (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels))
        samples = array.array("h", mixed)
    return samples, rate


def resample(samples: array.array[int], rate: int, target: int) -> array.array[int]:
    """Linear interpolation to the target rate (clips are short: plain Python is fast enough)."""
    if rate == target or not samples:
        return array.array("h", samples)
    count = max(1, round(len(samples) * target / rate))
    step = (len(samples) - 1) / max(1, count - 1)
    out = array.array("h")
    last = len(samples) - 1
    for i in range(count):
        pos = i * step
        j = int(pos)
        frac = pos - j
        nxt = samples[min(j + 1, last)]
        out.append(int(samples[j] + (nxt - samples[j]) * frac))
    return out


def trim(samples: array.array[int], rate: int) -> array.array[int]:
    """Without the silence at both ends (a little edge kept)."""
    first = next((i for i, s in enumerate(samples) if abs(s) > SILENCE), None)
    if first is None:
        return array.array("h")
    end = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > SILENCE)
    edge = int(rate * EDGE_S)
    return samples[max(0, first - edge) : min(len(samples), end + 1 + edge)]


class ClipSet:
    """The clips of one folder at one rate. A clip that cannot be read is left out, with one warning naming
    the file and why, so espeak-ng reads that unit instead."""

    def __init__(self, folder: Path, rate: int = 22050) -> None:
        self.folder = folder
        self.rate = rate
        self.clips: dict[str, Clip] = {}
        self.chime: Clip | None = None
        self.problems: list[str] = []
        if not folder.is_dir():
            return
        known = {*UNITS, CHIME}
        for path in sorted(folder.glob("*.wav")):
            if path.stem not in known:
                self.problems.append(f"{path.name}: 不是可用的语音片段名称")
                continue
            try:
                samples, source_rate = _read(path)
            except (OSError, EOFError, ValueError, wave.Error) as exc:
                self.problems.append(f"{path.name}: {exc}")
                continue
            samples = resample(samples, source_rate, rate)
            clip = Clip(path.stem, samples if path.stem == CHIME else trim(samples, rate), path)
            if not clip.samples:
                self.problems.append(f"{path.name}: 只有静音")
                continue
            if path.stem == CHIME:
                self.chime = clip
            else:
                self.clips[path.stem] = clip
        if self.problems:
            log.warning("voice: clips in %s left out: %s", folder, "; ".join(self.problems))
        log.info("voice: %d recorded clips from %s (missing units are read by espeak-ng)", len(self.clips), folder)

    def __bool__(self) -> bool:
        return bool(self.clips) or self.chime is not None

    def fingerprint(self) -> str:
        """Changes when a clip is added, removed or re-recorded (part of the cache key)."""
        parts = [f"{c.unit}:{c.source.stat().st_mtime_ns}:{len(c.samples)}" for c in self.clips.values()]
        if self.chime is not None:
            parts.append(f"chime:{self.chime.source.stat().st_mtime_ns}")
        return "|".join(sorted(parts))

    def pieces(self, text: str) -> list[Piece]:
        """The text cut into clips where one exists (longest unit first); runs of text without a clip are
        kept together, so espeak-ng reads them as one phrase."""
        pieces: list[Piece] = []
        pending = ""
        i = 0
        while i < len(text):
            if text[i] in PAUSES:
                if pending:
                    pieces.append(Piece("espeak", pending))
                    pending = ""
                pieces.append(Piece("pause", text[i]))
                i += 1
                continue
            unit = next((u for u in UNITS if text.startswith(u, i)), None)
            if unit is not None and unit in self.clips:
                if pending:
                    pieces.append(Piece("espeak", pending))
                    pending = ""
                pieces.append(Piece("clip", unit))
                i += len(unit)
                continue
            step = len(unit) if unit else 1
            pending += text[i : i + step]
            i += step
        if pending:
            pieces.append(Piece("espeak", pending))
        return pieces
