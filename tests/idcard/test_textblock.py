"""The 256-byte text block for each card type: layouts, code tables, the GB 11643 check, privacy of repr."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.idcard.card import CardType
from kiosk.idcard.errors import InvalidIdentityError, UnsupportedCardError
from kiosk.idcard.identities import load_identities
from kiosk.idcard.parse import parse_text_block
from kiosk.idcard.textblock import encode_block


def ucs2(text: str, size: int) -> bytes:
    return text.ljust(size // 2).encode("utf-16-le")


def resident_block(number: str = "11010519491231002X", flag: str = " ") -> bytes:
    """Built field by field at the HARDWARE.md offsets, independently of encode_block."""
    block = (
        ucs2("张测试", 30)
        + ucs2("2", 2)
        + ucs2("05", 4)
        + ucs2("19491231", 16)
        + ucs2("北京市朝阳区测试路1号", 70)
        + ucs2(number, 36)
        + ucs2("北京市公安局朝阳分局", 30)
        + ucs2("20100101", 16)
        + ucs2("长期", 16)
        + ucs2("", 28)
        + ucs2(flag, 2)
        + ucs2("", 6)
    )
    assert len(block) == 256
    return block


def test_resident_card_at_the_documented_offsets() -> None:
    card = parse_text_block(resident_block(), b"W" * 1024)
    assert card.card_type is CardType.RESIDENT
    assert (card.name, card.sex, card.nation) == ("张测试", "女", "维吾尔")
    assert card.birth == date(1949, 12, 31)
    assert card.address == "北京市朝阳区测试路1号"
    assert card.id_number == "11010519491231002X"
    assert card.issuer == "北京市公安局朝阳分局"
    assert (card.valid_from, card.valid_to, card.long_term) == (date(2010, 1, 1), None, True)
    assert card.photo_wlt == b"W" * 1024 and card.photo is None


def test_lowercase_x_is_normalised() -> None:
    assert parse_text_block(resident_block("11010519491231002x")).id_number == "11010519491231002X"


def test_wrong_check_digit_is_an_error_not_a_card() -> None:
    with pytest.raises(InvalidIdentityError) as caught:
        parse_text_block(resident_block("110105194912310021"))
    assert "校验" in caught.value.message
    assert "110105194912310021" not in str(caught.value) + caught.value.message


def test_birth_date_must_agree_with_the_number() -> None:
    block = bytearray(resident_block())
    block[36:52] = ucs2("19500101", 16)
    with pytest.raises(InvalidIdentityError):
        parse_text_block(bytes(block))


def test_unknown_type_flag_is_unsupported() -> None:
    with pytest.raises(UnsupportedCardError) as caught:
        parse_text_block(resident_block(flag="Q"))
    assert "不支持" in caught.value.message


def test_foreigner_2017_card_layout() -> None:
    fields = {
        "english_name": "TESTER JANE",
        "sex": "2",
        "id_number": "GBR440081060101",
        "nationality": "GBR",
        "name": "简测试",
        "valid_from": "20200101",
        "valid_to": "20300101",
        "birth": "19810601",
        "version": "01",
        "authority_code": "4400",
    }
    block = encode_block(CardType.FOREIGNER, fields)
    assert block[248:250] == "I".encode("utf-16-le")
    assert block[0:22] == "TESTER JANE".encode("utf-16-le")
    assert block[158:164] == "简测试".encode("utf-16-le")
    card = parse_text_block(block)
    assert card.card_type is CardType.FOREIGNER
    assert (card.name, card.english_name, card.sex, card.nation) == ("简测试", "TESTER JANE", "女", "英国")
    assert (card.id_number, card.birth, card.authority_code) == ("GBR440081060101", date(1981, 6, 1), "4400")
    assert card.address == "" and card.valid_to == date(2030, 1, 1)


def test_foreigner_2017_number_must_be_three_letters_and_twelve_digits() -> None:
    fields = {"english_name": "X", "sex": "1", "id_number": "GB1440081060101", "nationality": "GBR"}
    fields |= {"valid_from": "20200101", "valid_to": "20300101", "birth": "19810601"}
    with pytest.raises(InvalidIdentityError):
        parse_text_block(encode_block(CardType.FOREIGNER, fields))


def test_hong_kong_macao_taiwan_permit_layout() -> None:
    fields = {
        "name": "陈测试",
        "sex": "1",
        "birth": "19900101",
        "address": "广东省深圳市样例街1号",
        "id_number": "810000199001011230",
        "issuer": "深圳市公安局",
        "valid_from": "20240110",
        "valid_to": "20290110",
        "pass_number": "H00000001",
        "issue_count": "01",
    }
    block = encode_block(CardType.HMT_RESIDENCE, fields)
    assert block[248:250] == "J".encode("utf-16-le")
    assert block[220:238] == "H00000001".encode("utf-16-le")
    card = parse_text_block(block)
    assert card.card_type is CardType.HMT_RESIDENCE
    assert (card.pass_number, card.issue_count, card.nation) == ("H00000001", "01", "")
    assert card.id_number == "810000199001011230"


def test_a_permit_must_carry_a_permit_number() -> None:
    fields = {"name": "陈测试", "sex": "1", "birth": "19850614", "id_number": "110105198506141230"}
    fields |= {"valid_from": "20240110", "valid_to": "20290110"}
    with pytest.raises(InvalidIdentityError):
        parse_text_block(encode_block(CardType.HMT_RESIDENCE, fields))


def test_every_sim_identity_builds_a_block_of_its_type() -> None:
    expected = {"foreigner": CardType.FOREIGNER, "foreigner-2023": CardType.FOREIGNER_2023}
    expected |= {"hk-permit": CardType.HMT_RESIDENCE, "tw-permit-no-photo": CardType.HMT_RESIDENCE}
    for key, identity in load_identities().items():
        if key == "bad-number":
            with pytest.raises(InvalidIdentityError):
                parse_text_block(identity.text_block())
            continue
        card = parse_text_block(identity.text_block())
        assert card.card_type is expected.get(key, CardType.RESIDENT)
        assert card.id_number == identity.id_number and card.birth == identity.birth


def test_sim_identities_cover_the_cases_the_kiosk_needs() -> None:
    today = date(2026, 11, 22)
    cards = {k: parse_text_block(i.text_block()) for k, i in load_identities().items() if k != "bad-number"}
    assert cards["elderly"].age_on(today) >= 65
    assert cards["child"].age_on(today) < 14
    assert cards["expired"].expired_on(today)
    assert not any(c.expired_on(today) for k, c in cards.items() if k != "expired")


def test_repr_never_shows_personal_data() -> None:
    card = parse_text_block(resident_block(), b"W" * 1024)
    shown = repr(card) + str(card) + f"{card}"
    for secret in ("张测试", "11010519491231002X", "北京市朝阳区", "1949", "WWW"):
        assert secret not in shown
    assert card.masked_name == "张*试"
    assert card.masked_id_number == "1101**********002X"


CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=15)


@given(name=CJK, address=CJK, issuer=CJK, nation=st.integers(1, 56), born=st.dates(date(1900, 1, 1), date(2020, 1, 1)))
def test_resident_round_trip(name: str, address: str, issuer: str, nation: int, born: date) -> None:
    body = f"110105{born:%Y%m%d}123"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    number = body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    fields = {"name": name, "sex": "1", "nation": f"{nation:02d}", "birth": f"{born:%Y%m%d}", "address": address}
    fields |= {"id_number": number, "issuer": issuer, "valid_from": "20200101", "valid_to": "20400101"}
    card = parse_text_block(encode_block(CardType.RESIDENT, fields))
    assert (card.name, card.address, card.issuer, card.id_number, card.birth) == (name, address, issuer, number, born)
