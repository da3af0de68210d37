"""What decoded ESC/POS bytes print: styled text lines, QR codes, barcodes, cuts and images, in order."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Segment:
    """A run of text with one style."""

    text: str
    width: int = 1
    height: int = 1
    bold: bool = False


@dataclass
class TextLine:
    """One printed line (ended by LF): its styled runs and the alignment it was printed with."""

    segments: list[Segment] = field(default_factory=list)
    align: str = "left"

    @property
    def text(self) -> str:
        """The characters of the line."""
        return "".join(s.text for s in self.segments)

    @property
    def scale(self) -> tuple[int, int]:
        """The largest width and height multipliers on the line."""
        return (max((s.width for s in self.segments), default=1), max((s.height for s in self.segments), default=1))


@dataclass
class QrCode:
    """A native QR code: its payload, module size (dots) and error correction level."""

    data: str
    module: int = 3
    ec: str = "L"
    align: str = "left"


@dataclass
class Barcode:
    """A native barcode."""

    kind: str
    data: str
    align: str = "left"


@dataclass
class Cut:
    """A paper cut."""

    partial: bool = False


@dataclass
class Image:
    """A raster image (only its size is kept)."""

    width: int
    height: int


Element = TextLine | QrCode | Barcode | Cut | Image


@dataclass
class Decoded:
    """Everything a capture prints, in order, and what the decoder could not understand."""

    elements: list[Element] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """Text of every printed line."""
        return [e.text for e in self.elements if isinstance(e, TextLine)]

    @property
    def text(self) -> str:
        """All lines joined by newlines."""
        return "\n".join(self.lines)

    @property
    def text_lines(self) -> list[TextLine]:
        """Every printed line with its styles."""
        return [e for e in self.elements if isinstance(e, TextLine)]

    @property
    def qr_codes(self) -> list[str]:
        """Payloads of the QR codes printed."""
        return [e.data for e in self.elements if isinstance(e, QrCode)]

    @property
    def barcodes(self) -> list[Barcode]:
        """Barcodes printed."""
        return [e for e in self.elements if isinstance(e, Barcode)]

    @property
    def cuts(self) -> int:
        """How many times the paper was cut."""
        return sum(isinstance(e, Cut) for e in self.elements)

    def documents(self) -> list[Decoded]:
        """The capture split after each cut (trailing blank paper dropped)."""
        parts: list[Decoded] = [Decoded()]
        for element in self.elements:
            parts[-1].elements.append(element)
            if isinstance(element, Cut):
                parts.append(Decoded())
        if not any(_inked(e) for e in parts[-1].elements):
            parts.pop()
        return parts


def _inked(element: Element) -> bool:
    """True for anything that puts ink on paper (a blank line does not)."""
    return not isinstance(element, TextLine) or bool(element.text.strip())
