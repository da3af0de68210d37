"""Playing a WAV through the machine's audio output: PulseAudio/PipeWire (paplay), ALSA (aplay) or sox
(`play`). With no audio device the announcement is skipped with a log line, never an error: a display
without a loudspeaker still shows the call."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Protocol

log = logging.getLogger("hallq.voice")


class Player(Protocol):
    """Plays one WAV file and returns when it has finished."""

    name: str

    def play(self, path: Path) -> None:
        """Play the file to the end (blocking)."""


class CommandPlayer:
    """Plays through an external command (`paplay`, `aplay -q`, `play -q`)."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.name = argv[0]

    def play(self, path: Path) -> None:
        """Run the player on the file; a failure is logged, not raised."""
        try:
            result = subprocess.run([*self.argv, str(path)], capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("voice: %s could not play %s: %s", self.name, path.name, exc)
            return
        if result.returncode != 0:
            log.warning("voice: %s failed: %s", self.name, result.stderr.decode("utf-8", "replace").strip()[:200])


class SilentPlayer:
    """No audio output: says so once (a warning), then keeps rendering the WAV files and lists what it
    skipped (tests look at the rendered files instead); each later skip is a debug line only."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.skipped: list[Path] = []
        self.told = False  # the warning was logged (at start-up, or at the first skipped call)
        self._lock = threading.Lock()

    @property
    def notice(self) -> str:
        """The one line for the start-up banner and the log."""
        return f"{self.reason}：叫号语音只生成 WAV 文件，不播放"

    def tell(self, folder: Path | None = None) -> None:
        """Log the warning, once per player."""
        with self._lock:
            if self.told:
                return
            self.told = True
        where = f" (no sound device; calls are rendered to {folder})" if folder else ""
        log.warning("voice: %s%s", self.notice, where)

    def play(self, path: Path) -> None:
        """Skip; said once (a warning naming the folder the files go to), then debug lines only."""
        with self._lock:
            self.skipped.append(path)
        if not self.told:
            self.tell(path.parent)
        else:
            log.debug("voice: not played: %s", path.name)


def _pulse_available() -> bool:
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return Path(runtime, "pulse", "native").exists()


def _alsa_available() -> bool:
    try:
        cards = Path("/proc/asound/cards").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return Path("/dev/snd").is_dir() and "no soundcards" not in cards and bool(cards.strip())


def detect_player(choice: str | None = None) -> Player:
    """The best player for this machine; HALLQ_AUDIO_PLAYER (paplay, aplay, play, none) overrides."""
    choice = choice or os.environ.get("HALLQ_AUDIO_PLAYER") or "auto"
    commands = {"paplay": ["paplay"], "aplay": ["aplay", "-q"], "play": ["play", "-q"]}
    if choice == "none":
        return SilentPlayer("语音已关闭（HALLQ_AUDIO_PLAYER=none）")
    if choice in commands:
        if shutil.which(choice):
            return CommandPlayer(commands[choice])
        return SilentPlayer(f"未找到播放程序 {choice}")
    pulse, alsa = _pulse_available(), _alsa_available()
    for name, usable in (("paplay", pulse), ("aplay", alsa), ("play", pulse or alsa)):
        if usable and shutil.which(name):
            return CommandPlayer(commands[name])
    return SilentPlayer("本机没有可用的音频输出设备")
