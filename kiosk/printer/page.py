"""An ESC/POS page for 58 mm or 80 mm paper: python-escpos builds the commands, Chinese text is sent by hand
(FS & … FS . around GB18030), because python-escpos 3.1 never sends FS & and prints `??` for lines without
an ideograph."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal

from escpos.capabilities import get_profile
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy

from hallcore.documents import Material
from hallcore.identity import mask_id_numbers
from kiosk.printer.textwidth import clean, text_width, wrap

CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .
LF = b"\n"
Align = Literal["left", "center", "right"]
# Characters with no double-byte code (GB18030 gives them 4 bytes that printers show as garbage).
_PRINTABLE = str.maketrans({"¥": "￥", "•": "·", "\u2212": "－", "\u00a0": " "})


@dataclass(frozen=True)
class Paper:
    """A paper width: printable dots and font A columns (12-dot half-width cells)."""

    width_mm: int
    dots: int
    columns: int


PAPERS = {58: Paper(58, 384, 32), 80: Paper(80, 576, 48)}


def paper(width_mm: int) -> Paper:
    """The paper for a profile's paper_width_mm (58 or 80)."""
    try:
        return PAPERS[width_mm]
    except KeyError:
        raise ValueError(f"unsupported paper width: {width_mm} mm (58 or 80)") from None


@lru_cache(maxsize=4)
def _escpos_profile(spec: Paper) -> Any:
    """The default python-escpos profile with this paper's width, so centring and columns are right."""
    profile = get_profile("default")
    data = copy.deepcopy(profile.profile_data)
    data["media"] = {"dpi": 203, "width": {"mm": spec.width_mm, "pixels": spec.dots}}
    data.setdefault("fonts", {})["0"] = {"name": "Font A", "columns": spec.columns}
    data["fonts"]["1"] = {"name": "Font B", "columns": spec.dots // 9}
    profile.profile_data = data
    return profile


def printable(text: str) -> str:
    """Text as it goes on paper: control characters dropped, symbols without a GB code swapped, ID numbers
    masked."""
    return mask_id_numbers(clean(text.translate(_PRINTABLE)))


class Page:
    """One document being laid out: styled lines that always fit the paper, QR codes, a cut."""

    def __init__(self, spec: Paper) -> None:
        self.spec = spec
        self.out = Dummy()
        self.out.profile = _escpos_profile(spec)
        self.out.hw("INIT")  # ESC @
        self._size = 1
        self._align: Align = "left"
        self._bold = False

    @property
    def columns(self) -> int:
        """Columns available at the current character width."""
        return self.spec.columns // self._size

    def style(self, align: Align | None = None, bold: bool | None = None, size: int | None = None) -> None:
        """Alignment, emphasis and character size (GS ! for all text, FS ! for Chinese characters); only
        changes are sent."""
        if align is not None and align != self._align:
            self.out.set(align=align)
            self._align = align
        if bold is not None and bold != self._bold:
            self.out.set(bold=bold)
            self._bold = bold
        if size is not None and size != self._size:
            self.out.set(custom_size=True, width=size, height=size)
            self.out._raw(b"\x1c\x21" + bytes([0x0C if size >= 2 else 0x00]))
            self._size = size

    def reset(self) -> None:
        """Back to left-aligned, regular, normal size."""
        self.style(align="left", bold=False, size=1)

    def line(self, text: str = "", scrub: bool = True) -> None:
        """One physical line (it must fit): ASCII as is, anything else in Chinese mode as GB18030."""
        text = printable(text) if scrub else clean(text)
        if text_width(text) > self.columns:
            raise ValueError(f"line wider than {self.columns} columns: {text!r}")
        if text.isascii():
            self.out._raw(text.encode("ascii") + LF)
        else:
            self.out._raw(CHINESE_ON + text.encode("gb18030") + CHINESE_OFF + LF)

    def para(self, text: str, hang: int = 0, scrub: bool = True) -> None:
        """Text wrapped by display width; continuation lines indented by `hang` columns."""
        text = printable(text) if scrub else clean(text)
        for part in wrap(text, self.columns, hang):
            self.line(part, scrub=False)

    def field(self, label: str, value: object, scrub: bool = True) -> None:
        """`label：value`, the value wrapping under itself (or under a short indent on narrow paper)."""
        if value is None or value == "":
            return
        head = f"{label}："
        hang = text_width(head) if text_width(head) <= self.columns // 3 else 2
        self.para(head + str(value), hang=hang, scrub=scrub)

    def heading(self, text: str) -> None:
        """A centred bold title, as large as the paper allows."""
        text = printable(text)
        for size in (2, 1):
            if text_width(text) * size <= self.spec.columns:
                self.style(align="center", bold=True, size=size)
                self.line(text)
                break
        else:
            self.style(align="center", bold=True)
            self.para(text)
        self.reset()

    def centred(self, text: str, bold: bool = False) -> None:
        """Centred, wrapped text."""
        self.style(align="center", bold=bold)
        self.para(text)
        self.reset()

    def big(self, text: str) -> None:
        """The ticket number: centred, bold, four times (or as large as fits)."""
        text = printable(text)
        size = max(1, min(4, self.spec.columns // max(1, text_width(text))))
        self.style(align="center", bold=True, size=size)
        self.line(text)
        self.reset()

    def rule(self) -> None:
        """A full-width separator."""
        self.line("-" * self.spec.columns)

    def items(self, entries: list[str]) -> None:
        """A numbered list, continuation lines aligned under the text."""
        for index, entry in enumerate(entries, start=1):
            number = f"{index}. "
            self.para(number + entry, hang=len(number))

    def qr(self, data: str | None, caption: str | None = None) -> None:
        """A native QR code (GS ( k), centred, with an optional caption under it."""
        if not data:
            return
        self.style(align="center")
        module = 6 if self.spec.dots >= 576 else 5
        self.out.qr(data, native=True, size=module, ec=QR_ECLEVEL_M)
        if caption:
            self.centred(caption)
        self.reset()

    def feed(self, lines: int = 1) -> None:
        """Blank lines."""
        self.out._raw(LF * lines)

    def finish(self) -> bytes:
        """Feed past the cutter, cut (GS V) and return every byte of the document."""
        self.reset()
        self.out.cut()
        return self.out.output


# --- formatting ---


def when(value: datetime | date | str | None, with_time: bool = True) -> str | None:
    """2026年11月23日 09:05 (the time the document carries, in its own offset)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        day = f"{value.year}年{value.month:02d}月{value.day:02d}日"
        return f"{day} {value:%H:%M}" if with_time else day
    if isinstance(value, date):
        return f"{value.year}年{value.month:02d}月{value.day:02d}日"
    return value


def describe(material: Material, with_note: bool = True) -> str:
    """`名称（原件 1份）` plus its note on the following line."""
    form = []
    if material.kind:
        form.append(material.kind)
    if material.copies == 0:
        form.append("核验")
    elif material.copies:
        form.append(f"{material.copies}份")
    text = material.name + (f"（{''.join(form)}）" if form else "")
    if with_note and material.note:
        text += f"\n说明：{material.note}"
    return text
