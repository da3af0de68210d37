"""The SAM_V driver against the simulator through a real pty: every card type and every error path."""

from __future__ import annotations

from datetime import date

import pytest
import serial

from kiosk.idcard import frames
from kiosk.idcard.card import CardType
from kiosk.idcard.driver import Presence, SamvReader
from kiosk.idcard.errors import (
    CardRemovedError,
    ChecksumError,
    InvalidIdentityError,
    ReaderTimeout,
    ReaderUnavailable,
    SamError,
)
from kiosk.idcard.sim_wlt import FACES_DIR
from kiosk.idcard.simulator import IdCardSimulator
from tests.idcard.conftest import NOW, SIM_DECODER

READ = [frames.FIND_CARD, frames.SELECT_CARD, frames.READ_BASE, frames.READ_APPENDED_ADDRESS]


def test_no_card_is_none(reader: SamvReader) -> None:
    assert reader.read_card() is None
    assert reader.probe() is Presence.ABSENT


def test_resident_card_with_its_stock_photo(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("resident")
    card = reader.read_card()
    assert card is not None
    assert card.card_type is CardType.RESIDENT
    assert (card.name, card.sex, card.nation, card.birth) == ("李测试", "男", "汉", date(1985, 6, 14))
    assert card.id_number == "110105198506141230" and card.valid_to == date(2036, 3, 1)
    assert not card.expired and card.appended_address == ""
    assert card.photo == (FACES_DIR / "id_obama.jpg").read_bytes()
    assert len(card.photo_wlt) == 1024
    assert sim.requests == READ


def test_elderly_long_term_card_with_an_appended_address(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("elderly")
    card = reader.read_card()
    assert card is not None and card.valid_to is None and card.nation == "回"
    assert card.age_on(NOW.date()) >= 65
    assert card.appended_address == "北京市西城区样例街10号院1号楼101室"


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("foreigner", CardType.FOREIGNER),
        ("foreigner-2023", CardType.FOREIGNER_2023),
        ("hk-permit", CardType.HMT_RESIDENCE),
    ],
)
def test_other_card_types(sim: IdCardSimulator, reader: SamvReader, key: str, kind: CardType) -> None:
    sim.insert(key)
    card = reader.read_card()
    assert card is not None and card.card_type is kind
    assert card.photo is not None and card.photo.startswith(b"\xff\xd8")


def test_a_missing_stock_photo_gives_a_card_without_photo(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("tw-permit-no-photo")
    card = reader.read_card()
    assert card is not None and card.photo is None and card.id_number.startswith("83")


def test_expired_card_is_read_and_flagged(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("expired")
    card = reader.read_card()
    assert card is not None and card.expired and card.valid_to == date(2021, 11, 10)


def test_invalid_number_is_an_error_with_a_chinese_message(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("bad-number")
    with pytest.raises(InvalidIdentityError) as caught:
        reader.read_card()
    assert "证件号码校验未通过" in caught.value.message


def test_a_read_card_stays_halted_until_it_leaves(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("child")
    assert reader.read_card() is not None
    assert reader.read_card() is None  # find-card fails for a halted card, as on a real reader
    assert reader.probe() is Presence.HELD
    sim.remove()
    assert reader.probe() is Presence.ABSENT
    sim.insert("child")
    assert reader.probe() is Presence.NEW
    assert reader.read_card() is not None


def test_one_bad_checksum_is_retried(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("resident")
    sim.fault("bad_checksum")
    card = reader.read_card()
    assert card is not None and card.name == "李测试"
    assert sim.requests[:2] == [frames.FIND_CARD, frames.FIND_CARD]  # the damaged reply was asked for again
    assert reader.link.checksum_retries == 1


def test_a_bad_checksum_on_the_big_read_reply_is_retried(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("resident")
    reader.link.command(frames.FIND_CARD)
    reader.link.command(frames.SELECT_CARD)
    sim.fault("bad_checksum")
    reply = reader.link.command(frames.READ_BASE)
    assert reply.status == frames.SW_OK and len(reply.data) == 4 + 256 + 1024
    assert sim.requests[-2:] == [frames.READ_BASE, frames.READ_BASE]


def test_persistent_bad_checksums_fail_after_the_retries(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("resident")
    sim.fault("bad_checksum_always")
    with pytest.raises(ChecksumError) as caught:
        reader.read_card()
    assert sim.requests == [frames.FIND_CARD] * 3
    assert "通信" in caught.value.message


def test_a_request_damaged_on_the_way_is_sent_again(sim: IdCardSimulator, reader: SamvReader) -> None:
    """The module answers SW3 10 when our frame arrived damaged; the driver sends it again."""
    sim.insert("resident")
    sim.fault("garbled_request")
    assert reader.read_card() is not None
    assert sim.requests[:2] == [frames.FIND_CARD, frames.FIND_CARD]


def test_the_simulator_rejects_a_damaged_request_like_a_module(sim: IdCardSimulator) -> None:
    port = serial.Serial(sim.port, 115200, timeout=1.0)
    try:
        port.write(bytes.fromhex("AAAAAA9669000311FF00"))  # SAM status with a wrong checksum
        parser, got = frames.FrameParser(), list[frames.Frame]()
        while not got:
            chunk = port.read(1)
            assert chunk, "no reply"
            got = parser.feed(chunk + port.read(port.in_waiting))
        assert got[0].response().status == frames.SW_BAD_CHECKSUM
    finally:
        port.close()


def test_no_card_fault(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("resident")
    sim.fault("no_card")
    assert reader.read_card() is None
    sim.clear_faults()
    assert reader.read_card() is not None


def test_card_removed_between_select_and_read(sim: IdCardSimulator, reader: SamvReader) -> None:
    sim.insert("resident")
    sim.fault("remove_mid_read")
    with pytest.raises(CardRemovedError) as caught:
        reader.read_card()
    assert "移开" in caught.value.message
    assert sim.card is None and reader.read_card() is None


def test_sam_failure(sim: IdCardSimulator, reader: SamvReader) -> None:
    reader.check_sam()
    sim.insert("resident")
    sim.fault("sam_failure")
    with pytest.raises(SamError) as caught:
        reader.check_sam()
    assert "安全模块" in caught.value.message
    with pytest.raises(SamError):
        reader.read_card()


def test_silent_reader_times_out(sim: IdCardSimulator) -> None:
    reader = SamvReader(sim.port, timeout_s=0.2)
    try:
        sim.fault("silent")
        with pytest.raises(ReaderTimeout) as caught:
            reader.read_card()
        assert "无响应" in caught.value.message
        sim.clear_faults()
        sim.insert("resident")
        assert reader.read_card() is not None  # recovers with no leftovers on the line
    finally:
        reader.close()


def test_sam_commands(reader: SamvReader) -> None:
    reader.reset_sam()
    reader.check_sam()
    assert len(reader.sam_id()) == 32


def test_read_with_fingerprint_length_field(sim: IdCardSimulator) -> None:
    reader = SamvReader(sim.port, photo_decoder=SIM_DECODER, with_fingerprint=True, clock=lambda: NOW)
    try:
        sim.insert("hk-permit")
        card = reader.read_card()
        assert card is not None and card.pass_number == "H00000001"
        assert frames.READ_BASE_FINGERPRINT in sim.requests
    finally:
        reader.close()


def test_a_port_that_does_not_exist() -> None:
    reader = SamvReader("/dev/ttyNO-SUCH-READER")
    with pytest.raises(ReaderUnavailable) as caught:
        reader.read_card()
    assert "未连接" in caught.value.message
