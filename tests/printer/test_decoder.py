"""The decoder on hand-made ESC/POS byte strings, and the PNG preview."""

from __future__ import annotations

from pathlib import Path

from escpos.printer import Dummy
from PIL import Image

from kiosk.printer.decoder import Barcode, Cut, QrCode, TextLine, decode
from kiosk.printer.layout import render
from kiosk.printer.preview import render_preview, save_preview
from kiosk.printer.samples import SAMPLES

INIT, ON, OFF = b"\x1b@", b"\x1c&", b"\x1c."


def qr_bytes(data: bytes, module: int = 4) -> bytes:
    """GS ( k: model 2, module size, EC level M, store, print."""

    def fn(code: int, body: bytes) -> bytes:
        return b"\x1d(k" + (len(body) + 2).to_bytes(2, "little") + b"1" + bytes([code]) + body

    return fn(65, b"2\x00") + fn(67, bytes([module])) + fn(69, b"1") + fn(80, b"0" + data) + fn(81, b"0")


def test_text_chinese_mode_and_line_feeds() -> None:
    data = INIT + ON + "受理凭证".encode("gb18030") + OFF + b"\n" + b"A012\n\n" + ON + "……".encode("gb18030") + OFF
    data += b"\n" + ON + "收费：￥120".encode("gb18030") + OFF + b"\n"
    decoded = decode(data)
    assert decoded.lines == ["受理凭证", "A012", "", "……", "收费：￥120"]
    assert decoded.problems == []


def test_gb18030_outside_chinese_mode_is_reported() -> None:
    decoded = decode(INIT + "中文".encode("gb18030") + b"\n")
    assert decoded.problems and "outside Chinese mode" in decoded.problems[0]
    assert decoded.lines[0] != "中文"


def test_styles_sizes_and_alignment() -> None:
    data = INIT + b"\x1ba\x01\x1bE\x01\x1d!\x33A012\n" + b"\x1d!\x00\x1bE\x00\x1ba\x00"
    data += ON + b"\x1c!\x0c" + "大字".encode("gb18030") + OFF + b"\n"
    first, second = decode(data).text_lines
    assert (first.text, first.scale, first.align, first.segments[0].bold) == ("A012", (4, 4), "center", True)
    assert (second.text, second.scale, second.align) == ("大字", (2, 2), "left")


def test_qr_barcode_cut_and_status_queries() -> None:
    url = b"http://hall.test:8000/api/v1/tickets/12"
    data = INIT + b"\x10\x04\x01" + b"\x1ba\x01" + qr_bytes(url, 6) + b"\x1ba\x00"
    data += b"\x1dkI\x07{B12345" + b"\x1dk\x04ABC-1\x00" + b"\x1bd\x03" + b"\x1dV\x00" + b"\x1dVB\x00"
    decoded = decode(data)
    assert decoded.problems == []
    qr, code128, code39 = (e for e in decoded.elements if isinstance(e, QrCode | Barcode))
    assert isinstance(qr, QrCode) and (qr.data, qr.module, qr.ec, qr.align) == (url.decode(), 6, "M", "center")
    assert (code128.kind, code128.data) == ("CODE128", "12345")  # type: ignore[union-attr]
    assert (code39.kind, code39.data) == ("CODE39", "ABC-1")  # type: ignore[union-attr]
    cuts = [e for e in decoded.elements if isinstance(e, Cut)]
    assert [c.partial for c in cuts] == [False, True] and decoded.cuts == 2
    assert decoded.qr_codes == [url.decode()]


def test_python_escpos_own_output_decodes() -> None:
    printer = Dummy()
    printer.hw("INIT")
    printer.set(align="center", double_height=True, double_width=True)
    printer.text("Hello\n")
    printer.qr("hallq", native=True, size=5)
    printer.barcode("4006381333931", "EAN13")
    printer.cut()
    decoded = decode(printer.output)
    assert "Hello" in decoded.lines and decoded.qr_codes == ["hallq"] and decoded.cuts == 1
    assert decoded.barcodes[0].kind == "EAN13" and decoded.barcodes[0].data.startswith("400638133393")
    # Why Chinese is sent by hand: python-escpos 3.1 turns a line of full-width punctuation into question
    # marks, and sends other symbols in a Western code page that a Chinese printer does not use.
    printer = Dummy()
    printer.text("，。！\n")
    assert decode(printer.output).lines[0] == "???"
    printer = Dummy()
    printer.text("……\n")
    assert decode(printer.output).problems


def test_documents_split_at_cuts() -> None:
    data = render("ticket", SAMPLES["ticket"], 58) + render("guide", SAMPLES["guide"], 58)
    documents = decode(data).documents()
    assert len(documents) == 2 and "A012" in documents[0].lines and "办事材料清单" in documents[1].text
    assert all(isinstance(d.elements[-1], Cut) for d in documents)


def test_unknown_and_truncated_commands_do_not_crash() -> None:
    decoded = decode(INIT + b"\x1b\xfe" + b"ok\n" + b"\x1d(k\x09")
    assert "ok" in decoded.lines and decoded.problems


def test_png_preview(tmp_path: Path) -> None:
    for width, dots in ((58, 384), (80, 576)):
        decoded = decode(render("receipt", SAMPLES["receipt"], width))
        image = render_preview(decoded, dots)
        assert image.width == dots and image.height > 800
        path = save_preview(decoded, dots, tmp_path / f"receipt-{width}.png")
        with Image.open(path) as png:
            assert png.size == image.size
            assert png.convert("L").getextrema()[0] == 0  # ink on the paper
    lines = [e for e in decode(render("ticket", SAMPLES["ticket"], 80)).elements if isinstance(e, TextLine)]
    assert lines
