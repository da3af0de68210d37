"""SAM_V frames: the HARDWARE.md examples byte for byte, round trips, checksum and resynchronisation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kiosk.idcard import frames
from kiosk.idcard.frames import FrameParser, checksum, encode_frame, encode_request, encode_response


def test_requests_match_the_documented_frames() -> None:
    documented = {
        frames.RESET_SAM: "AAAAAA9669000310FFEC",
        frames.SAM_STATUS: "AAAAAA9669000311FFED",
        frames.SAM_ID: "AAAAAA9669000312FFEE",
        frames.FIND_CARD: "AAAAAA96690003200122",
        frames.SELECT_CARD: "AAAAAA96690003200221",
        frames.READ_BASE: "AAAAAA96690003300132",
        frames.READ_APPENDED_ADDRESS: "AAAAAA96690003300330",
    }
    for (cmd, para), wire in documented.items():
        assert encode_request(cmd, para).hex().upper() == wire


def test_replies_seen_from_a_real_reader_decode() -> None:
    parser = FrameParser()
    wire = bytes.fromhex("AAAAAA9669000400009094AAAAAA9669000800009F0000000097AAAAAA9669000400008084")
    replies = [f.response() for f in parser.feed(wire)]
    assert [(r.sw1, r.sw2, r.status, r.data) for r in replies] == [
        (0, 0, frames.SW_OK, b""),
        (0, 0, frames.SW_CARD_FOUND, bytes(4)),
        (0, 0, frames.SW_FIND_FAILED, b""),
    ]
    assert encode_response(frames.SW_CARD_FOUND, bytes(4)).hex().upper() == "AAAAAA9669000800009F0000000097"


def test_a_full_read_reply_is_1295_bytes_with_length_0508() -> None:
    data = (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + bytes(256 + 1024)
    wire = encode_response(frames.SW_OK, data)
    assert len(wire) == 1295
    assert wire[5:10] == bytes.fromhex("0508000090")


@given(st.binary(min_size=0, max_size=600), st.lists(st.integers(min_value=1, max_value=97), max_size=30))
def test_round_trip_through_any_chunking(payload: bytes, cuts: list[int]) -> None:
    wire = b"\x00\x55noise" + encode_frame(payload) + encode_frame(payload[::-1])
    parser, got, pos = FrameParser(), [], 0
    for size in [*cuts, len(wire)]:
        got += parser.feed(wire[pos : pos + size])
        pos += size
    assert [(f.payload, f.valid) for f in got] == [(payload, True), (payload[::-1], True)]


@given(st.binary(min_size=3, max_size=300), st.data())
def test_any_damaged_byte_is_caught_by_the_checksum(payload: bytes, data: st.DataObject) -> None:
    wire = bytearray(encode_frame(payload))
    index = data.draw(st.integers(min_value=7, max_value=len(wire) - 1))  # payload or checksum byte
    wire[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    (frame,) = FrameParser().feed(bytes(wire))
    assert not frame.valid


@given(st.binary(max_size=200))
def test_checksum_is_xor_of_length_and_payload(payload: bytes) -> None:
    wire = encode_frame(payload)
    expected = 0
    for byte in wire[5:-1]:
        expected ^= byte
    assert wire[-1] == expected == checksum(wire[5:-1])
    assert int.from_bytes(wire[5:7], "big") == len(payload) + 1


def test_impossible_length_resynchronises_on_the_next_preamble() -> None:
    parser = FrameParser()
    junk = frames.PREAMBLE + b"\xff\xff"  # 65535 bytes: noise, not a frame
    good = encode_response(frames.SW_OK)
    assert [f.response().status for f in parser.feed(junk + good)] == [frames.SW_OK]
    assert parser.dropped > 0


def test_corrupted_reply_is_reported_not_dropped() -> None:
    (frame,) = FrameParser().feed(encode_response(frames.SW_OK, b"abc", corrupt=True))
    assert not frame.valid and frame.payload[2] == frames.SW_OK
