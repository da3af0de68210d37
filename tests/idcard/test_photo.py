"""WLT photo decoding loaded by path: module or file, the simulator's decoder, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.idcard import sim_wlt
from kiosk.idcard.driver import SamvReader
from kiosk.idcard.photo import PhotoDecoderError, decode_photo, load_photo_decoder
from kiosk.idcard.simulator import IdCardSimulator

PNG = b"\x89PNG\r\n\x1a\n" + b"fake"


def test_module_path_loads_the_simulator_decoder() -> None:
    decode = load_photo_decoder("kiosk.idcard.sim_wlt:decode")
    assert decode is sim_wlt.decode
    assert decode(sim_wlt.encode("x", "biden.jpg")) == (sim_wlt.FACES_DIR / "biden.jpg").read_bytes()


def test_file_path_plugin(tmp_path: Path, sim: IdCardSimulator) -> None:
    plugin = tmp_path / "vendor_wlt.py"
    plugin.write_text(f"def to_png(wlt):\n    assert len(wlt) == 1024\n    return {PNG!r}\n")
    reader = SamvReader(sim.port, photo_decoder=f"{plugin}:to_png")
    try:
        sim.insert("resident")
        card = reader.read_card()
        assert card is not None and card.photo == PNG
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("kiosk.idcard.sim_wlt", "应为"),
        ("kiosk.idcard.sim_wlt:", "应为"),
        ("kiosk.idcard.sim_wlt:no_such_function", "没有可调用的函数"),
        ("kiosk.no_such_module:decode", "ModuleNotFoundError"),
        ("/nonexistent/vendor.py:decode", "不存在"),
    ],
)
def test_bad_plugin_settings_are_clear_errors(spec: str, words: str) -> None:
    with pytest.raises(PhotoDecoderError) as caught:
        load_photo_decoder(spec)
    assert words in str(caught.value)


def test_a_plugin_that_does_not_import(tmp_path: Path) -> None:
    plugin = tmp_path / "broken.py"
    plugin.write_text("def decode(wlt:\n")
    with pytest.raises(PhotoDecoderError) as caught:
        load_photo_decoder(f"{plugin}:decode")
    assert "SyntaxError" in str(caught.value)


def test_a_bad_setting_fails_when_the_reader_is_built() -> None:
    with pytest.raises(PhotoDecoderError):
        SamvReader("/dev/null", photo_decoder="nope:decode")


def test_decoding_failures_give_no_photo() -> None:
    def broken(wlt: bytes) -> bytes:
        raise RuntimeError("vendor library crashed")

    blob = sim_wlt.encode("x", "obama.jpg")
    assert decode_photo(broken, blob) is None
    assert decode_photo(lambda wlt: b"not an image", blob) is None
    assert decode_photo(sim_wlt.decode, sim_wlt.encode("x", "missing.jpg")) is None
    assert decode_photo(sim_wlt.decode, b"WLf" + bytes(1021)) is None  # a real card's blob: not ours
    assert decode_photo(None, blob) is None
    assert decode_photo(sim_wlt.decode, bytes(1024)) is None


def test_sim_blob_is_1024_bytes_and_names_the_identity() -> None:
    blob = sim_wlt.encode("elderly", "biden.jpg")
    assert len(blob) == 1024 and blob.startswith(sim_wlt.MARKER)
    assert sim_wlt.reference(blob) == ("elderly", "biden.jpg")
