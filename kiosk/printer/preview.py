"""A PNG of what decoded ESC/POS bytes look like on paper: 12×24-dot cells (a Chinese character takes two),
character sizes, alignment, QR codes drawn with the qrcode package and dashed cut lines."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from kiosk.printer.decoder import Barcode, Cut, Decoded, Image, QrCode, Segment, TextLine
from kiosk.printer.textwidth import char_width

CELL = 12  # dots per half-width cell of font A
LINE_PITCH = 30  # default line spacing of ESC/POS printers at 203 dpi
FONT_FILES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
EC = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Draw = Callable[[PILImage.Image, int], None]


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> Font:
    """A monospaced CJK font (Noto Sans Mono CJK SC, else WenQuanYi Micro Hei Mono) at a pixel size."""
    for regular, heavy in FONT_FILES:
        path = heavy if bold else regular
        if not Path(path).exists():
            continue
        for index in range(10):
            try:
                face = ImageFont.truetype(path, size, index=index)
            except OSError:
                break
            if face.getname()[0] in ("Noto Sans Mono CJK SC", "WenQuanYi Micro Hei Mono"):
                return face
    return ImageFont.load_default(size)


def _segment_image(segment: Segment) -> PILImage.Image:
    """One styled run drawn cell by cell, stretched when width and height multipliers differ."""
    h = segment.height
    cells = [char_width(ch) for ch in segment.text]
    image = PILImage.new("L", (max(1, sum(cells) * CELL * h), 24 * h + 4), 255)
    draw = ImageDraw.Draw(image)
    face = font(24 * h, segment.bold)
    x = 0
    for ch, cell in zip(segment.text, cells, strict=True):
        if cell:
            draw.text((x + cell * CELL * h / 2, 12 * h + 2), ch, font=face, fill=0, anchor="mm")
        x += cell * CELL * h
    if segment.width != h:
        image = image.resize((max(1, sum(cells) * CELL * segment.width), image.height), PILImage.Resampling.LANCZOS)
    return image


def _place(dots: int, width: int, align: str) -> int:
    if align == "center":
        return max(0, (dots - width) // 2)
    return max(0, dots - width) if align == "right" else 0


def _text(line: TextLine, dots: int) -> tuple[int, Draw]:
    parts = [_segment_image(s) for s in line.segments if s.text]
    height = max([LINE_PITCH] + [p.height + 6 for p in parts])

    def draw(canvas: PILImage.Image, y: int) -> None:
        x = _place(dots, sum(p.width for p in parts), line.align)
        for part in parts:
            canvas.paste(part, (x, y + height - part.height - 3))
            x += part.width

    return height, draw


def _qr(code: QrCode, dots: int) -> tuple[int, Draw]:
    maker = qrcode.QRCode(box_size=max(1, code.module), border=0, error_correction=EC.get(code.ec, ERROR_CORRECT_L))
    maker.add_data(code.data)
    maker.make(fit=True)
    image = maker.make_image(fill_color="black", back_color="white").get_image().convert("L")

    def draw(canvas: PILImage.Image, y: int) -> None:
        canvas.paste(image, (_place(dots, image.width, code.align), y + 4))

    return image.height + 8, draw


def _barcode(code: Barcode, dots: int) -> tuple[int, Draw]:
    """Bars stand in for the symbol (not scannable); the human-readable text is exact."""

    def draw(canvas: PILImage.Image, y: int) -> None:
        pen = ImageDraw.Draw(canvas)
        width = min(dots - 16, 24 + 22 * len(code.data))
        x0 = _place(dots, width, code.align)
        x = x0
        for i, byte in enumerate(code.data.encode() * 4):
            bar = 1 + (byte + i) % 3
            if x + bar > x0 + width:
                break
            pen.rectangle((x, y + 4, x + bar - 1, y + 64), fill=0)
            x += bar + 1 + (byte >> 2) % 2
        pen.text((x0 + width // 2, y + 80), code.data, font=font(20), fill=0, anchor="mm")

    return 96, draw


def _cut(dots: int) -> tuple[int, Draw]:
    def draw(canvas: PILImage.Image, y: int) -> None:
        pen = ImageDraw.Draw(canvas)
        for x in range(0, dots, 12):
            pen.line((x, y + 12, x + 6, y + 12), fill=110, width=2)
        pen.text((dots - 4, y + 2), "切纸", font=font(14), fill=110, anchor="ra")

    return 28, draw


def _image(element: Image, dots: int) -> tuple[int, Draw]:
    def draw(canvas: PILImage.Image, y: int) -> None:
        ImageDraw.Draw(canvas).rectangle((0, y, min(dots, element.width) - 1, y + element.height - 1), fill=200)

    return element.height, draw


def render_preview(decoded: Decoded, width_dots: int) -> PILImage.Image:
    """The whole capture as a grayscale image `width_dots` wide (384 for 58 mm, 576 for 80 mm)."""
    blocks: list[tuple[int, Draw]] = []
    for element in decoded.elements:
        if isinstance(element, TextLine):
            blocks.append(_text(element, width_dots))
        elif isinstance(element, QrCode):
            blocks.append(_qr(element, width_dots))
        elif isinstance(element, Barcode):
            blocks.append(_barcode(element, width_dots))
        elif isinstance(element, Cut):
            blocks.append(_cut(width_dots))
        else:
            blocks.append(_image(element, width_dots))
    margin = 16
    canvas = PILImage.new("L", (width_dots, margin * 2 + sum(h for h, _ in blocks)), 255)
    y = margin
    for height, draw in blocks:
        draw(canvas, y)
        y += height
    return canvas


def save_preview(decoded: Decoded, width_dots: int, out: Path) -> Path:
    """Write the preview PNG and return its path."""
    out.parent.mkdir(parents=True, exist_ok=True)
    render_preview(decoded, width_dots).save(out, format="PNG")
    return out
