"""Four-digit ticket numbers read aloud: digits one by one (A1000 → A 幺零零零, not 一千), in the pinyin
espeak-ng reads and in the audio itself, and the calls rendered ahead continue past 999."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from broker.messages import Call, GroupQueue, QueueState, WindowState
from hallcore.announce import call_speech, call_text
from kiosk.voice.ahead import likely_calls
from kiosk.voice.pinyin import normalise, to_pinyin
from kiosk.voice.tts import SpeechRenderer, duration_s

TS = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
A1000_AT_3 = "qing3 A yao1 ling2 ling2 ling2 hao4 dao4 san1 hao4 chuang1 kou3 ban4 li3"


def test_a_four_digit_call_is_read_digit_by_digit() -> None:
    assert call_speech("A1000", 3) == "请A幺零零零号到三号窗口办理"
    assert to_pinyin(call_speech("A1000", 3)) == A1000_AT_3
    # The screen text read as it is gives the same words: never 一千 (yi1 qian1).
    assert normalise(call_text("A1000", 3)) == "请A幺零零零号到三号窗口办理"
    assert to_pinyin(call_text("A1000", 3)) == A1000_AT_3
    assert to_pinyin(call_speech("Y3596", 12, recall=True)) == (
        "chong2 hu1, qing3 Y san1 wu3 jiu3 liu4 hao4 dao4 shi2 er4 hao4 chuang1 kou3 ban4 li3"
    )
    assert to_pinyin(call_speech("AB1234", 5)).startswith("qing3 A B yao1 er4 san1 si4 hao4")


def test_a_four_digit_number_renders_one_syllable_longer(renderer: SpeechRenderer) -> None:
    three = duration_s(renderer.render(call_speech("A100", 3), repeat=1))
    four = duration_s(renderer.render(call_speech("A1000", 3), repeat=1))
    assert 3.0 < three < four < 9.0
    assert 0.1 < four - three < 0.8  # one more syllable (零), not a blip and not a number read as 一千


def call(ticket: str) -> Call:
    return Call(ts=TS, call_id=ticket, ticket=ticket, window_id="w03", window_name="3号窗口", text="", speech="")


def test_calls_rendered_ahead_go_on_past_999() -> None:
    windows = [
        WindowState(ts=TS, window_id="w03", name="3号窗口", number=3, status="open", serving=None, groups=["police"])
    ]
    queue = QueueState(
        ts=TS, groups=[GroupQueue(group="police", name="公安服务", prefix="A", waiting=4, estimated_wait_min=10)]
    )
    assert likely_calls(windows, queue, [call("A998"), call("A999")]) == [call_speech("A1000", 3)]
    # A1000 is higher than A999 (as a number, not as text), so the next is A1001.
    assert likely_calls(windows, queue, [call("A1000"), call("A999")]) == [call_speech("A1001", 3)]
    assert likely_calls(windows, queue, [call("A9999")]) == []  # the series has run out: nothing more to call
