"""The exact pinyin espeak-ng reads: digits one by one in tickets, letters as letters, 重呼 as chóng hū."""

from __future__ import annotations

import pytest

from firmware_config.hall import load_hall_profile
from hallcore.announce import call_speech, call_text
from kiosk.voice.pinyin import normalise, to_pinyin
from tests.conftest import DEMO_HALL

TAIL = "hao4 chuang1 kou3 ban4 li3"


@pytest.mark.parametrize(
    ("ticket", "window", "recall", "expected"),
    [
        ("A012", 3, False, f"qing3 A ling2 yao1 er4 hao4 dao4 san1 {TAIL}"),
        ("B100", 13, False, f"qing3 B yao1 ling2 ling2 hao4 dao4 shi2 san1 {TAIL}"),
        ("C007", 20, False, f"qing3 C ling2 ling2 qi1 hao4 dao4 er4 shi2 {TAIL}"),
        ("A012", 3, True, f"chong2 hu1, qing3 A ling2 yao1 er4 hao4 dao4 san1 {TAIL}"),
        ("G111", 105, False, f"qing3 G yao1 yao1 yao1 hao4 dao4 yi4 bai3 ling2 wu3 {TAIL}"),
        ("AB010", 11, True, f"chong2 hu1, qing3 A B ling2 yao1 ling2 hao4 dao4 shi2 yi1 {TAIL}"),
    ],
)
def test_call_speech_in_pinyin(ticket: str, window: int, recall: bool, expected: str) -> None:
    # What the server sends (Chinese digits) and what screens show (Arabic digits) read the same.
    assert to_pinyin(call_speech(ticket, window, recall)) == expected
    assert to_pinyin(call_text(ticket, window, recall)) == expected


def test_the_first_example_exactly() -> None:
    assert to_pinyin("请A零幺二号到三号窗口办理") == "qing3 A ling2 yao1 er4 hao4 dao4 san1 hao4 chuang1 kou3 ban4 li3"


def test_every_demo_window_name() -> None:
    numerals = {
        1: "yi1",
        2: "er4",
        3: "san1",
        4: "si4",
        5: "wu3",
        6: "liu4",
        7: "qi1",
        8: "ba1",
        9: "jiu3",
        10: "shi2",
        11: "shi2 yi1",
        12: "shi2 er4",
        13: "shi2 san1",
        14: "shi2 si4",
        15: "shi2 wu3",
        16: "shi2 liu4",
        17: "shi2 qi1",
        18: "shi2 ba1",
        19: "shi2 jiu3",
        20: "er4 shi2",
    }
    hall = load_hall_profile(DEMO_HALL / "hall.yaml")
    assert len(hall.windows) == 20
    for window in hall.windows:
        assert to_pinyin(window.name) == f"{numerals[window.number]} hao4 chuang1 kou3", window.name


def test_heteronyms_and_hall_words() -> None:
    assert to_pinyin("重呼") == "chong2 hu1"  # pypinyin alone says zhong4 hu1
    assert to_pinyin("请重新取号") == "qing3 chong2 xin1 qu3 hao4"
    assert to_pinyin("综合咨询窗口") == "zong1 he2 zi1 xun2 chuang1 kou3"
    assert to_pinyin("不动产登记") == "bu2 dong4 chan3 deng1 ji4"  # 不 before a fourth tone
    assert to_pinyin("请到银行办理") == "qing3 dao4 yin2 hang2 ban4 li3"


def test_letters_are_spelled_and_numbers_normalised() -> None:
    assert to_pinyin("ok") == "O K"
    assert normalise("A012号到3号") == "A零幺二号到三号"
    assert normalise("电话26600001") == "电话二六六零零零零幺"  # long numbers digit by digit
    assert to_pinyin("请稍候。谢谢！") == "qing3 shao1 hou4, xie4 xie4"
