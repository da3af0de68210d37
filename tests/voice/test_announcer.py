"""The announcement queue: calls never play at once, in arrival order, each once; likely calls are rendered
ahead so a real call is ready at once."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from broker.messages import Call, GroupQueue, QueueState, WindowState
from hallcore.announce import call_speech
from kiosk.voice.ahead import likely_calls
from kiosk.voice.announcer import Announcer
from kiosk.voice.tts import SpeechRenderer

TS = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


class SlowPlayer:
    """Plays for a fixed time and records when; notices if two plays ever overlap."""

    name = "test"

    def __init__(self, seconds: float = 0.15) -> None:
        self.seconds = seconds
        self.played: list[tuple[Path, float, float]] = []
        self.active = 0
        self.overlapped = False
        self._lock = threading.Lock()

    def play(self, path: Path) -> None:
        with self._lock:
            self.active += 1
            self.overlapped |= self.active > 1
        start = time.monotonic()
        time.sleep(self.seconds)
        with self._lock:
            self.active -= 1
            self.played.append((path, start, time.monotonic()))


def test_overlapping_calls_are_queued(renderer: SpeechRenderer) -> None:
    player = SlowPlayer()
    announcer = Announcer(renderer, player, repeat=1)
    announcer.start()
    texts = [call_speech(t, w) for t, w in (("A012", 3), ("B100", 13), ("C007", 20), ("A013", 4))]
    # Four calls from four threads at the same moment, as four windows pressing 叫号 together.
    threads = [threading.Thread(target=announcer.announce, args=(text, f"call-{i}")) for i, text in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert announcer.wait_idle(10)
    announcer.stop()
    assert len(player.played) == 4 and not player.overlapped
    spans = sorted((start, end) for _, start, end in player.played)
    assert all(prev_end <= start for (_, prev_end), (start, _) in pairwise(spans))
    assert {a.text for a in announcer.history} == set(texts)
    assert all(a.path is not None and a.path.exists() for a in announcer.history)


def test_calls_play_in_arrival_order_and_once(renderer: SpeechRenderer) -> None:
    player = SlowPlayer(0.05)
    announcer = Announcer(renderer, player, repeat=1)
    announcer.start()
    first = announcer.announce(call_speech("A001", 1), key="7")
    second = announcer.announce(call_speech("A002", 2), key="8")
    assert announcer.announce(call_speech("A001", 1), key="7") is None  # the same call again: a resync
    assert announcer.wait_idle(10)
    announcer.stop()
    assert first is not None and second is not None
    assert [p for p, _, _ in player.played] == [first.path, second.path]


def test_likely_calls_are_rendered_ahead(renderer: SpeechRenderer) -> None:
    windows = [
        WindowState(ts=TS, window_id="w03", name="3号窗口", number=3, status="open", serving="A012", groups=["police"]),
        WindowState(ts=TS, window_id="w04", name="4号窗口", number=4, status="paused", serving=None, groups=["police"]),
        WindowState(ts=TS, window_id="w07", name="7号窗口", number=7, status="open", serving=None, groups=["social"]),
    ]
    queue = QueueState(
        ts=TS,
        groups=[
            GroupQueue(group="police", name="公安服务", prefix="A", waiting=3, estimated_wait_min=10),
            GroupQueue(group="social", name="社保医保", prefix="B", waiting=0, estimated_wait_min=None),
        ],
    )
    recent = [Call(ts=TS, call_id="1", ticket="A012", window_id="w03", window_name="3号窗口", text="", speech="")]
    likely = likely_calls(windows, queue, recent)
    assert likely == [call_speech("A013", 3), call_speech("A012", 3, recall=True)]
    player = SlowPlayer(0.01)
    announcer = Announcer(renderer, player, repeat=2)
    announcer.start()
    announcer.prepare(likely)
    deadline = time.monotonic() + 5
    while not all(renderer.is_ready(t, 2) for t in likely) and time.monotonic() < deadline:
        time.sleep(0.01)
    item = announcer.announce(call_speech("A013", 3), key="2")
    assert announcer.wait_idle(10)
    announcer.stop()
    assert item is not None and item.prerendered
    assert item.ready_s is not None and item.ready_s < 0.3


def test_likely_calls_take_every_window_in_turn() -> None:
    def window(number: int, groups: list[str], serving: str | None = None) -> WindowState:
        return WindowState(
            ts=TS, window_id=f"w{number:02d}", name=f"{number}号窗口", number=number, status="open",
            serving=serving, groups=groups,
        )  # fmt: skip

    queue = QueueState(
        ts=TS,
        groups=[
            GroupQueue(group="social", name="社保医保", prefix="B", waiting=2, estimated_wait_min=5),
            GroupQueue(group="police", name="公安服务", prefix="A", waiting=5, estimated_wait_min=9),
        ],
    )
    windows = [window(2, ["police"], serving="A004"), window(1, ["police", "social"]), window(13, ["police"])]
    likely = likely_calls(windows, queue, [], limit=4)
    # idle windows first, the busiest group first at each, then the second candidates, then recalls
    assert likely == [
        call_speech("A001", 1),
        call_speech("A001", 13),
        call_speech("A001", 2),
        call_speech("B001", 1),
    ]
    assert likely_calls(windows, queue, [])[-1] == call_speech("A004", 2, recall=True)


def test_a_call_stuck_behind_a_long_queue_is_dropped(renderer: SpeechRenderer) -> None:
    player = SlowPlayer(0.3)
    announcer = Announcer(renderer, player, repeat=1, max_wait_s=0.2)
    announcer.start()
    first = announcer.announce(call_speech("A001", 1), key="1")
    late = announcer.announce(call_speech("A002", 2), key="2")
    assert announcer.wait_idle(10)
    announcer.stop()
    assert first is not None and first.error is None and late is not None and late.error is not None
    assert len(player.played) == 1
