"""What a call says: the text on screens and the speech read aloud (digits one by one), and how a ticket
number is written: its series prefix, then at least three digits (A001 … A999, A1000 … A9999)."""

from __future__ import annotations

import re

# Numbers per series and day: three digits up to 999, then four; a series runs out after 9999.
MAX_SEQ = 9999
# A ticket number as printed, shown and typed: 1–2 letters, three digits (zero-padded) or four (no leading 0).
TICKET_NUMBER = re.compile(r"^([A-Z]{1,2})(\d{3}|[1-9]\d{3})$")

# Ticket digits are read one by one; 1 is 幺 so it is not confused with 7 over a loudspeaker.
_DIGIT = dict(zip("0123456789", "零幺二三四五六七八九", strict=True))
_NUMERAL = dict(zip("0123456789", "零一二三四五六七八九", strict=True))


def ticket_number(series: str, seq: int) -> str:
    """A + 12 → A012, A + 1000 → A1000: three digits below 1000, four from 1000 to MAX_SEQ."""
    if not 1 <= seq <= MAX_SEQ:
        raise ValueError(f"ticket numbers run from 1 to {MAX_SEQ}, not {seq}")
    return f"{series}{seq:03d}"


def parse_ticket(number: str) -> tuple[str, int] | None:
    """'A1000' → ('A', 1000); None when it is not a ticket number (A12, A0123, A10000)."""
    match = TICKET_NUMBER.fullmatch(number)
    return (match.group(1), int(match.group(2))) if match else None


def spoken_ticket(number: str) -> str:
    """A012 → 'A零幺二', A1000 → 'A幺零零零': letters as they are, digits one by one."""
    return "".join(_DIGIT.get(ch, ch) for ch in number)


def spoken_number(n: int) -> str:
    """A window number as a Chinese numeral: 3 → 三, 13 → 十三, 20 → 二十, 105 → 一百零五."""
    if n < 0 or n > 999:
        raise ValueError("window numbers run from 0 to 999")
    if n < 10:
        return _NUMERAL[str(n)]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _NUMERAL[str(tens)]) + "十" + (_NUMERAL[str(ones)] if ones else "")
    hundreds, rest = divmod(n, 100)
    if rest == 0:
        tail = ""
    elif rest < 10:
        tail = "零" + _NUMERAL[str(rest)]
    else:
        tail = spoken_number(rest) if rest >= 20 else "一" + spoken_number(rest)
    return _NUMERAL[str(hundreds)] + "百" + tail


def call_text(ticket: str, window_number: int, recall: bool = False) -> str:
    """请A012号到3号窗口办理 (recalls start with 重呼)."""
    text = f"请{ticket}号到{window_number}号窗口办理"
    return f"重呼：{text}" if recall else text


def call_speech(ticket: str, window_number: int, recall: bool = False) -> str:
    """请A零幺二号到三号窗口办理 — what the voice reads."""
    speech = f"请{spoken_ticket(ticket)}号到{spoken_number(window_number)}号窗口办理"
    return f"重呼，{speech}" if recall else speech
