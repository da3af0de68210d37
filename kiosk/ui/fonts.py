"""The CJK font every screen uses. Kivy's default font has no Chinese glyphs (tofu), so one is registered
under FONT_NAME before any widget is built. Noto Sans CJK ships as a collection whose first face is the
Japanese one; its Simplified Chinese face is extracted once into a cache so glyphs take mainland forms."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("hallq.ui.fonts")

FONT_NAME = "HallqSans"
NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
NOTO_SC_INDEX = 2  # face order in Debian's NotoSansCJK-*.ttc: JP, KR, SC, TC, HK, then the Mono faces
# (regular, bold, face index of Simplified Chinese or None to use the file as it is)
CANDIDATES: tuple[tuple[Path, Path | None, int | None], ...] = (
    (NOTO_DIR / "NotoSansCJKsc-Regular.otf", NOTO_DIR / "NotoSansCJKsc-Bold.otf", None),
    (NOTO_DIR / "NotoSansCJK-Regular.ttc", NOTO_DIR / "NotoSansCJK-Bold.ttc", NOTO_SC_INDEX),
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), None, None),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), None, None),
)
INSTALL_HINT = (
    "请安装中文字体：apt-get install fonts-noto-cjk（或 fonts-wqy-microhei），或用 HALLQ_CJK_FONT 指定字体文件"
)


class FontMissing(RuntimeError):
    """No CJK font on this machine: Chinese would show as empty boxes."""


@dataclass(frozen=True)
class CjkFont:
    """Files of the regular and bold faces."""

    regular: Path
    bold: Path


def _cache_dir() -> Path:
    # A board's service user may have no home: systemd's cache or state directory comes first.
    for variable in ("HALLQ_FONT_CACHE", "CACHE_DIRECTORY", "STATE_DIRECTORY"):
        value = os.environ.get(variable, "").split(":")[0]
        if value:
            return Path(value) if variable == "HALLQ_FONT_CACHE" else Path(value) / "fonts"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hallq" / "fonts"


def _face(collection: Path, index: int) -> Path:
    """One face of a .ttc as a standalone font file (cached); the collection itself when that fails."""
    target = _cache_dir() / f"{collection.stem}-{index}.otf"
    if target.exists() and target.stat().st_mtime >= collection.stat().st_mtime:
        return target
    try:
        from fontTools.ttLib import TTCollection

        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        TTCollection(str(collection), lazy=True).fonts[index].save(str(partial))
        partial.replace(target)
        return target
    except Exception as exc:  # no fontTools, read-only cache, odd file: the first face is still legible
        log.info("using %s as it is (could not extract face %d: %s)", collection, index, exc)
        return collection


def find_cjk_font() -> CjkFont:
    """The best CJK font installed (HALLQ_CJK_FONT wins); FontMissing when there is none."""
    chosen = os.environ.get("HALLQ_CJK_FONT")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise FontMissing(f"HALLQ_CJK_FONT={chosen} 不存在。{INSTALL_HINT}")
        return CjkFont(path, path)
    for regular, bold, index in CANDIDATES:
        if not regular.is_file():
            continue
        bold_file = bold if bold is not None and bold.is_file() else regular
        if index is not None:
            return CjkFont(_face(regular, index), _face(bold_file, index))
        return CjkFont(regular, bold_file)
    raise FontMissing(f"没有找到中文字体，界面上的汉字会显示为方框。{INSTALL_HINT}")


def register_fonts() -> CjkFont:
    """Register the CJK font with Kivy as FONT_NAME (regular and bold), and under Kivy's default font name
    too, so a widget that forgets font_name (a TextInput, a popup) still shows Chinese."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    font = find_cjk_font()
    for name in (FONT_NAME, DEFAULT_FONT or "Roboto"):
        LabelBase.register(name, fn_regular=str(font.regular), fn_bold=str(font.bold))
    return font
