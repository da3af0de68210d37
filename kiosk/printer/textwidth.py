"""Display width on a thermal printer and line wrapping by it (a Chinese character takes two columns)."""

from __future__ import annotations

import re
import unicodedata

# The masks on paper are hallcore.identity's (one implementation); named here as the printer knew them.
from hallcore.identity import mask_id_numbers  # noqa: F401
from hallcore.identity import mask_printed_name as mask_name  # noqa: F401

# Characters that must not start a line (避头) or end one (避尾), after GB/T 15834 practice.
NO_START = set("，。、；：？！）》」』】〕〉〗”’…—·%‰,.;:?!)]}>～")
NO_END = set("（《「『【〔〈〖“‘([{<")
# An ASCII run (number, URL, code) stays whole, and a number keeps the unit after it (30分, 1份, 2026年).
_ASCII_WORD = re.compile(r"[!-~]*[0-9](?![!-~])[^\x00-\x7f，。、；：？！）》」』】…—·]?|[!-~]+")


def char_width(ch: str, chinese_mode: bool = True) -> int:
    """Columns one character takes in font A: ASCII 1, East Asian wide/fullwidth 2, combining marks 0.

    In Chinese mode (FS &) the printer draws every double-byte GB18030 code in a full-width cell, so
    ambiguous, neutral and narrow non-ASCII characters (…, ·, ①, é) take two columns as well; without it
    only Unicode's W and F characters are wide."""
    code = ord(ch)
    if code < 0x20 or code == 0x7F:
        return 0
    if code < 0x80:
        return 1
    if unicodedata.combining(ch):
        return 0
    if chinese_mode:
        return 2
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Columns a string takes on paper."""
    return sum(char_width(ch) for ch in text)


def clean(text: str) -> str:
    """Printable text: control characters removed, tabs and odd spaces as plain spaces."""
    text = text.replace("\t", " ").replace("\u3000", "  ").replace("\u00a0", " ")
    return "".join(ch for ch in text if ch == "\n" or char_width(ch) > 0 or unicodedata.combining(ch))


def _tokens(text: str) -> list[str]:
    """Runs of ASCII non-space characters stay together (numbers, URLs); every other character alone."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        match = _ASCII_WORD.match(text, pos)
        if match:
            out.append(match.group(0))
            pos = match.end()
        else:
            out.append(text[pos])
            pos += 1
    return out


def _split_long(token: str, width: int) -> list[str]:
    """A token wider than a whole line, cut into line-sized pieces."""
    pieces: list[str] = []
    current = ""
    for ch in token:
        if text_width(current + ch) > width and current:
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, width: int, hang: int = 0) -> list[str]:
    """Lines no wider than `width` columns; continuation lines are indented by `hang` spaces.

    Explicit newlines are kept. Closing punctuation never starts a line and opening brackets never end
    one: a character moves down with it when that still fits."""
    if width < 2:
        raise ValueError("width must be at least 2 columns")
    hang = min(hang, width // 2)
    lines: list[str] = []
    for paragraph in clean(text).split("\n"):
        lines.extend(_wrap_paragraph(paragraph.rstrip(), width, hang, first=not lines))
    return lines


def _wrap_paragraph(text: str, width: int, hang: int, first: bool) -> list[str]:
    lines: list[list[str]] = []
    current: list[str] = []
    pending = _tokens(text)
    indent = 0 if first else hang
    while pending:
        token = pending.pop(0)
        limit = width - indent
        if text_width("".join(current)) + text_width(token) <= limit:
            if not (token == " " and not current and lines):  # no space at the start of a continuation
                current.append(token)
            continue
        room = limit - text_width("".join(current))
        if not current or (text_width(token) > width - hang and room >= 4):
            # a token wider than any line is cut, starting on this line, into pieces of even length
            capacity = room if current else limit
            pieces = 1 + -(-max(0, text_width(token) - capacity) // (width - hang))
            head = _split_long(token, min(capacity, -(-text_width(token) // pieces)))[0]
            current.append(head)
            if token[len(head) :]:
                pending.insert(0, token[len(head) :])
            continue
        carried: list[str] = []
        if token[0] in NO_START and len(current) > 1 and current[-1][-1] not in NO_START:
            carried.append(current.pop())
        while len(current) > 1 and current[-1][-1] in NO_END:
            carried.insert(0, current.pop())
        if text_width("".join([*carried, token])) > width - hang:  # carrying would not fit: plain break
            current.extend(carried)
            carried = []
        lines.append(current)
        indent = hang
        current = carried
        if token != " ":
            pending.insert(0, token)
    lines.append(current)
    out = []
    for index, parts in enumerate(lines):
        line = "".join(parts).rstrip()
        out.append(" " * (0 if first and index == 0 else hang) + line)
    return out
