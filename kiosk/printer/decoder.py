"""Captured ESC/POS bytes back into what the paper shows: text lines (GB18030 inside FS & … FS ., ASCII
otherwise), QR payloads (GS ( k), barcodes (GS k), cuts (GS V) and size, emphasis and alignment."""

from __future__ import annotations

from kiosk.printer.decoded import Barcode, Cut, Decoded, Element, Image, QrCode, Segment, TextLine

__all__ = ["Barcode", "Cut", "Decoded", "Element", "Image", "QrCode", "Segment", "TextLine", "decode"]

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10
BARCODES = {
    0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR",
    65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
    72: "CODE93", 73: "CODE128",
}  # fmt: skip
# ESC and GS commands by their number of parameter bytes (ones with variable length are handled apart).
_ESC_ARGS = {
    "!": 1, "-": 1, "2": 0, "3": 1, "@": 0, "E": 1, "G": 1, "J": 1, "M": 1, "R": 1, "V": 1, "a": 1,
    "d": 1, "e": 1, "t": 1, "{": 1, " ": 1, "$": 2, "\\": 2, "c": 2, "p": 3, "r": 1, "U": 1, "i": 0,
    "m": 0, "B": 2, "L": 0, "S": 0, "T": 1, "=": 1, "%": 1, "?": 1,
}  # fmt: skip
_GS_ARGS = {
    "!": 1, "B": 1, "b": 1, "H": 1, "h": 1, "w": 1, "f": 1, "L": 2, "W": 2, "a": 1, "r": 1, "I": 1,
    "P": 2, "^": 3, "E": 1, "\\": 2, "T": 1, ":": 0,
}  # fmt: skip
_FS_ARGS = {"&": 0, ".": 0, "!": 1, "-": 1, "C": 1, "W": 1, "S": 2, "p": 2, "?": 2}


class _State:
    """Printer modes while decoding."""

    def __init__(self) -> None:
        self.reset()
        self.codepage = "cp437"

    def reset(self) -> None:
        self.chinese = False
        self.gs_size = (1, 1)
        self.fs_size = (1, 1)
        self.esc_size = (1, 1)
        self.bold = False
        self.align = "left"
        self.qr_module, self.qr_ec, self.qr_data = 3, "L", b""


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.st = _State()
        self.out = Decoded()
        self.line = TextLine()
        self.pending = bytearray()  # text bytes in the current mode and style, not yet decoded

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) < n:
            self.out.problems.append(f"truncated command at byte {self.pos}")
            chunk += bytes(n - len(chunk))  # zeros stand in for what never came
        self.pos += n
        return chunk

    def flush_text(self) -> None:
        if not self.pending:
            return
        raw = bytes(self.pending)
        self.pending.clear()
        if self.st.chinese:
            text = raw.decode("gb18030", errors="replace")
        else:
            if any(b >= 0x80 for b in raw):
                self.out.problems.append(f"non-ASCII bytes outside Chinese mode: {raw.hex()}")
            text = raw.decode(self.st.codepage, errors="replace")
        st = self.st
        width = max(st.gs_size[0], st.esc_size[0], st.fs_size[0] if st.chinese else 1)
        height = max(st.gs_size[1], st.esc_size[1], st.fs_size[1] if st.chinese else 1)
        if not self.line.segments:
            self.line.align = st.align
        last = self.line.segments[-1] if self.line.segments else None
        if last and (last.width, last.height, last.bold) == (width, height, st.bold):
            last.text += text
        else:
            self.line.segments.append(Segment(text, width, height, st.bold))

    def end_line(self) -> None:
        self.flush_text()
        if not self.line.segments:
            self.line.align = self.st.align
        self.out.elements.append(self.line)
        self.line = TextLine()

    def end_pending_line(self) -> None:
        """Graphics and cuts start on a new line: text waiting in the buffer is printed first."""
        self.flush_text()
        if self.line.segments:
            self.end_line()

    def run(self) -> Decoded:
        while self.pos < len(self.data):
            byte = self.data[self.pos]
            self.pos += 1
            if byte >= 0x20 and byte != 0x7F:
                self.pending.append(byte)
            elif byte in (0x0A, 0x0C):
                self.end_line()
            elif byte == 0x09:
                self.pending += b"    "
            elif byte in (ESC, FS, GS, DLE):
                self.flush_text()
                self.command(byte)
        self.flush_text()
        if self.line.segments:
            self.out.elements.append(self.line)
        return self.out

    def command(self, prefix: int) -> None:
        code = chr(self.take(1)[0]) if self.pos < len(self.data) else ""
        if prefix == DLE:
            if code == "\x04":
                self.take(1)  # DLE EOT n: a status query, nothing printed
            elif code == "\x14":
                self.take(3)
            return
        if prefix == ESC:
            self.esc(code)
        elif prefix == FS:
            self.fs(code)
        else:
            self.gs(code)

    def esc(self, code: str) -> None:
        st = self.st
        if code == "*":  # bit image: m nL nH data
            m, low, high = self.take(3)
            self.take((low + 256 * high) * (3 if m in (32, 33) else 1))
            return
        if code == "D":  # tab stops, NUL-terminated
            while self.pos < len(self.data) and self.take(1) != b"\x00":
                pass
            return
        if code not in _ESC_ARGS:
            self.out.problems.append(f"unknown command ESC {code!r}")
            return
        args = self.take(_ESC_ARGS[code])
        if code == "@":
            self.st.reset()
        elif code == "!":
            st.bold = bool(args[0] & 0x08)
            st.esc_size = (2 if args[0] & 0x20 else 1, 2 if args[0] & 0x10 else 1)
        elif code in "EG":
            st.bold = bool(args[0] & 1)
        elif code == "a":
            st.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(args[0], "left")
        elif code == "d":
            for _ in range(args[0]):
                self.end_line()
        elif code == "t":
            st.codepage = {0: "cp437", 2: "cp850", 16: "cp1252", 17: "cp866"}.get(args[0], "cp437")
        elif code in "im":
            self.end_pending_line()
            self.out.elements.append(Cut(partial=code == "m"))

    def fs(self, code: str) -> None:
        if code == "2":  # user-defined character: c1 c2 and 72 bytes
            self.take(74)
            return
        if code not in _FS_ARGS:
            self.out.problems.append(f"unknown command FS {code!r}")
            return
        args = self.take(_FS_ARGS[code])
        if code == "&":
            self.st.chinese = True
        elif code == ".":
            self.st.chinese = False
        elif code == "!":
            self.st.fs_size = (2 if args[0] & 0x04 else 1, 2 if args[0] & 0x08 else 1)

    def gs(self, code: str) -> None:
        st = self.st
        if code == "(":
            self.gs_paren()
        elif code == "k":
            self.barcode()
        elif code == "V":
            mode = self.take(1)[0]
            if mode in (65, 66, 97, 98, 103, 104):
                self.take(1)
            self.end_pending_line()
            self.out.elements.append(Cut(partial=mode in (1, 49, 66)))
        elif code == "v":  # GS v 0 m xL xH yL yH data
            _zero, _m, xl, xh, yl, yh = self.take(6)
            self.take((xl + 256 * xh) * (yl + 256 * yh))
            self.end_pending_line()
            self.out.elements.append(Image((xl + 256 * xh) * 8, yl + 256 * yh))
        elif code == "8":  # GS 8 L p1 p2 p3 p4 ...
            _l, *size = self.take(5)
            self.take(size[0] + (size[1] << 8) + (size[2] << 16) + (size[3] << 24))
        elif code in _GS_ARGS:
            args = self.take(_GS_ARGS[code])
            if code == "!":
                st.gs_size = ((args[0] >> 4) + 1, (args[0] & 0x0F) + 1)
        else:
            self.out.problems.append(f"unknown command GS {code!r}")

    def gs_paren(self) -> None:
        """GS ( fn pL pH …: 2D codes (k) are decoded; other functions are skipped by their length."""
        fn = chr(self.take(1)[0])
        low, high = self.take(2)
        body = self.take(low + 256 * high)
        if fn != "k" or len(body) < 2:
            return
        cn, function, rest = body[0], body[1], body[2:]
        st = self.st
        if cn != 49:  # PDF417 and others: store then print
            if function == 80:
                st.qr_data = rest[1:]
            elif function == 81:
                self.end_pending_line()
                self.out.elements.append(Barcode("PDF417", st.qr_data.decode("utf-8", "replace"), st.align))
            return
        if function == 67 and rest:
            st.qr_module = rest[0]
        elif function == 69 and rest:
            st.qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(rest[0], "L")
        elif function == 80:
            st.qr_data = rest[1:]  # m = '0', then the data
        elif function == 81:
            self.end_pending_line()
            self.out.elements.append(QrCode(st.qr_data.decode("utf-8", "replace"), st.qr_module, st.qr_ec, st.align))

    def barcode(self) -> None:
        m = self.take(1)[0]
        if m <= 6:
            end = self.data.find(b"\x00", self.pos)
            end = len(self.data) if end < 0 else end
            payload = self.data[self.pos : end]
            self.pos = end + 1
        else:
            payload = self.take(self.take(1)[0])
        text = payload.decode("ascii", "replace")
        if m == 73 and text[:1] == "{":
            text = "".join(part[1:] for part in text.split("{") if part)  # code set selectors dropped
        self.end_pending_line()
        self.out.elements.append(Barcode(BARCODES.get(m, f"m={m}"), text, self.st.align))


def decode(data: bytes) -> Decoded:
    """Decode captured ESC/POS bytes (one document or several in a row)."""
    return _Decoder(bytes(data)).run()
