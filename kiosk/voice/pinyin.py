"""Chinese text → the pinyin TONE3 line espeak-ng's `cmn-latn-pinyin` voice reads as correct Mandarin.

Ticket numbers are read character by character (A012 → A 零幺二: 1 is 幺 over a loudspeaker), other numbers
as numerals (3号窗口 → 三号窗口), Latin letters are kept upper-case so the voice spells them as letters, and
heteronyms pypinyin gets wrong in hall phrases (重呼 is chóng hū, not zhòng hū) are fixed by a phrase table."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

from hallcore.announce import spoken_number, spoken_ticket

# Phrases whose reading pypinyin's default choice gets wrong in a hall (checked one by one).
PHRASES: dict[str, str] = {
    "重呼": "chong2 hu1",
    "重新": "chong2 xin1",
    "重办": "chong2 ban4",
    "重复": "chong2 fu4",
    "重取": "chong2 qu3",
    "幺": "yao1",
    "银行": "yin2 hang2",
    "自行": "zi4 xing2",
    "行政": "xing2 zheng4",
    "还款": "huan2 kuan3",
    "单位": "dan1 wei4",
    "调休": "tiao2 xiu1",
}
PAUSE_MARKS = set("，。、；：！？,.;:!?—…·\n")
TICKET = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,2})(\d{2,4})(?![0-9])")
NUMBER = re.compile(r"\d+")
_PHRASE = re.compile("|".join(sorted(map(re.escape, PHRASES), key=len, reverse=True)))


def _number(match: re.Match[str]) -> str:
    digits = match.group(0)
    # Short numbers are numerals (十三号窗口); long ones (phone numbers, years) are read digit by digit.
    if len(digits) <= 3 and not (len(digits) > 1 and digits.startswith("0")):
        return spoken_number(int(digits))
    return spoken_ticket(digits)


def normalise(text: str) -> str:
    """Digits written out as they are read: tickets one by one, window numbers as numerals."""
    text = TICKET.sub(lambda m: m.group(1) + spoken_ticket(m.group(2)), text)
    return NUMBER.sub(_number, text)


def _latin(chunk: str) -> list[str]:
    """Tokens for a run pypinyin left alone: letters one by one, pauses as commas, the rest dropped."""
    tokens: list[str] = []
    for ch in chunk:
        if ch.isascii() and ch.isalpha():
            tokens.append(ch.upper())
        elif ch in PAUSE_MARKS:
            tokens.append(",")
    return tokens


def _segment(text: str) -> list[str]:
    tokens: list[str] = []
    for syllable in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True):
        if syllable and syllable[-1].isdigit() and syllable[:-1].isascii() and syllable[:-1].isalpha():
            tokens.append(syllable)
        else:
            tokens.extend(_latin(syllable))
    return tokens


def tokens(text: str) -> list[str]:
    """The syllables (and ',' pauses) of a text."""
    out: list[str] = []
    text = normalise(text)
    pos = 0
    for match in _PHRASE.finditer(text):
        out.extend(_segment(text[pos : match.start()]))
        out.extend(PHRASES[match.group(0)].split())
        pos = match.end()
    out.extend(_segment(text[pos:]))
    return out


def to_pinyin(text: str) -> str:
    """'请A零幺二号到三号窗口办理' → 'qing3 A ling2 yao1 er4 hao4 dao4 san1 hao4 chuang1 kou3 ban4 li3'."""
    words: list[str] = []
    for token in tokens(text):
        if token == ",":
            if words and not words[-1].endswith(","):
                words[-1] += ","
        else:
            words.append(token)
    return " ".join(words).rstrip(",")
