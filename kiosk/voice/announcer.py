"""The announcement queue: calls are read one after another, never over each other. Rendering ahead
(likely next calls) runs on its own thread so it never delays a real call."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.voice.player import Player
from kiosk.voice.tts import SpeechRenderer, VoiceUnavailable

log = logging.getLogger("hallq.voice")


@dataclass
class Announcement:
    """One call to read, with its timings (time.monotonic seconds)."""

    key: str
    text: str
    queued_at: float = field(default_factory=time.monotonic)
    ready_at: float | None = None  # audio rendered (or found in the cache)
    started_at: float | None = None
    finished_at: float | None = None
    path: Path | None = None
    prerendered: bool = False
    error: str | None = None

    @property
    def ready_s(self) -> float | None:
        """Call received → audio ready."""
        return None if self.ready_at is None else self.ready_at - self.queued_at


class Announcer:
    """Reads announcements in order on one worker thread; remembers recent keys so a call is read once."""

    def __init__(
        self, renderer: SpeechRenderer, player: Player, repeat: int | None = None, max_wait_s: float = 120.0
    ) -> None:
        self.renderer = renderer
        self.player = player
        self.repeat = repeat
        self.max_wait_s = max_wait_s  # a call that waited longer in a busy queue is no longer read
        self.history: deque[Announcement] = deque(maxlen=500)
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._wanted: list[str] = []  # the latest list of likely calls, most likely first
        self._wanted_cond = threading.Condition()
        self._stopping = False
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Condition()
        self._pending = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the reading and the rendering-ahead threads."""
        for target, name in ((self._work, "voice"), (self._render_ahead, "voice-ahead")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the announcement being read."""
        self._queue.put(None)
        with self._wanted_cond:
            self._stopping = True
            self._wanted_cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def announce(self, text: str, key: str | None = None) -> Announcement | None:
        """Queue a text; None when this key was already announced (a call repeated by a resync)."""
        key = key or text
        with self._lock:
            if key in self._seen:
                return None
            self._seen[key] = None
            while len(self._seen) > 500:
                self._seen.popitem(last=False)
            item = Announcement(key=key, text=text)
            item.prerendered = self.renderer.is_ready(text, self.repeat)
            self._pending += 1
        self._queue.put(item)
        return item

    def prepare(self, texts: Iterable[str]) -> None:
        """Render these texts in the background, in order, so they play at once when called. A newer list
        replaces an older one not yet rendered: the hall has moved on."""
        pending = [t for t in texts if not self.renderer.is_ready(t, self.repeat)]
        with self._wanted_cond:
            self._wanted = pending
            self._wanted_cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued announcement has been read."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending == 0, timeout)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                if time.monotonic() - item.queued_at > self.max_wait_s:
                    item.error = "skipped: waited too long behind other announcements"
                    log.warning("voice: %s was not read: it waited over %.0f s", item.key, self.max_wait_s)
                    continue
                item.path = self.renderer.render(item.text, self.repeat)
                item.ready_at = time.monotonic()
                item.started_at = time.monotonic()
                self.player.play(item.path)
            except VoiceUnavailable as exc:
                item.error = str(exc)
                log.error("voice: %s", exc)
                self._chime_alone(item)
            except Exception as exc:  # a broken announcement must not stop the next ones
                item.error = str(exc)
                log.exception("voice: announcement %s failed", item.key)
            finally:
                item.finished_at = time.monotonic()
                with self._lock:
                    self.history.append(item)
                    self._pending -= 1
                    self._lock.notify_all()

    def _chime_alone(self, item: Announcement) -> None:
        """The chime does not depend on speech: a call whose words cannot be rendered still rings."""
        try:
            item.path = self.renderer.chime_path()
            item.started_at = time.monotonic()
            self.player.play(item.path)
        except Exception:
            log.exception("voice: the chime for %s could not be played either", item.key)

    def _render_ahead(self) -> None:
        while True:
            with self._wanted_cond:
                self._wanted_cond.wait_for(lambda: self._stopping or bool(self._wanted))
                if self._stopping:
                    return
                text = self._wanted.pop(0)
            try:
                self.renderer.render(text, self.repeat)
            except Exception as exc:
                log.warning("voice: could not render ahead %r: %s", text, exc)
