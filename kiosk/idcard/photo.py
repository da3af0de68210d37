"""WLT photo decoding as a plug-in. The WLT format is the vendor's closed compression (real decoders wrap a
library such as libwlt2bmp.so), so the decoder is loaded by path from configuration:
`package.module:function` or `/path/to/file.py:function`, with the signature `decode(wlt: bytes) -> bytes`
returning an encoded image (JPEG, PNG or BMP)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

log = logging.getLogger("hallq.idcard.photo")

PhotoDecoder = Callable[[bytes], bytes]
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM")


class PhotoDecoderError(ValueError):
    """A decoder setting that cannot be loaded (a configuration error, shown to the operator)."""


def load_photo_decoder(spec: str) -> PhotoDecoder:
    """The function a `module:function` or `file.py:function` setting names."""
    target, sep, name = spec.strip().rpartition(":")
    if not sep or not target or not name.isidentifier():
        raise PhotoDecoderError(f"照片解码插件设置 {spec!r} 应为 “包.模块:函数” 或 “/路径/文件.py:函数”")
    try:
        from_file = target.endswith(".py") or "/" in target
        module = _load_file(Path(target)) if from_file else importlib.import_module(target)
    except PhotoDecoderError:
        raise
    except Exception as exc:  # an import error of any kind inside the plug-in
        raise PhotoDecoderError(f"无法加载照片解码插件 {spec}：{type(exc).__name__}: {exc}") from exc
    function = getattr(module, name, None)
    if not callable(function):
        raise PhotoDecoderError(f"照片解码插件 {target} 中没有可调用的函数 {name}")
    return function


def _load_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise PhotoDecoderError(f"照片解码插件文件不存在：{path}")
    module_name = "hallq_wlt_plugin_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PhotoDecoderError(f"无法加载照片解码插件文件：{path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def resolve_decoder(decoder: PhotoDecoder | str | None) -> PhotoDecoder | None:
    """A decoder from a callable, a setting string or nothing."""
    return load_photo_decoder(decoder) if isinstance(decoder, str) else decoder


def decode_photo(decoder: PhotoDecoder | None, wlt: bytes) -> bytes | None:
    """The decoded image, or None (no decoder, decoder failure, not an image): a photo never stops a read."""
    if decoder is None or not wlt.strip(b"\x00"):
        return None
    try:
        image = decoder(wlt)
    except Exception as exc:  # a plug-in bug must not lose the card
        log.warning("WLT photo decoder failed: %s", type(exc).__name__)
        return None
    if not isinstance(image, bytes | bytearray) or not bytes(image).startswith(IMAGE_MAGIC):
        log.warning("WLT photo decoder returned something that is not a JPEG, PNG or BMP image")
        return None
    return bytes(image)
