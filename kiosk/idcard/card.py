"""What a card says, as the kiosk may use it: an `IdCard` whose repr never shows personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hallcore.identity import mask_id_number, mask_name


class CardType(StrEnum):
    """The documents a SAM_V reader reads, told apart by the type flag at offset 248 of the text block."""

    RESIDENT = "居民身份证"
    FOREIGNER = "外国人永久居留身份证"  # 2017 card, flag 'I', 15-character number
    FOREIGNER_2023 = "外国人永久居留身份证（2023版）"  # flag 'Y', 18-digit number starting with 9
    HMT_RESIDENCE = "港澳台居民居住证"  # flag 'J', numbers starting 81/82/83


@dataclass(frozen=True, repr=False)
class IdCard:
    """One card as read. `nation` is the 民族 for resident cards and the nationality (国籍) for foreigners;
    `valid_to` is None for 长期; `photo` is the decoded image (None when no decoder or decoding failed)."""

    card_type: CardType
    name: str
    sex: str
    nation: str
    birth: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_to: date | None
    photo_wlt: bytes
    photo: bytes | None = None
    english_name: str = ""  # foreigner cards
    pass_number: str = ""  # HK/Macao/Taiwan permit: the travel permit number (通行证号码)
    issue_count: str = ""  # HK/Macao/Taiwan permit: 签发次数; 2023 foreigner card: 换证次数
    authority_code: str = ""  # 2017 foreigner card: 受理机关代码 (the chip carries no issuer text)
    appended_address: str = ""  # the newest address endorsed on the back (追加住址), if any
    expired: bool = False  # set by the reader from its clock

    @property
    def masked_name(self) -> str:
        """张*三: what screens and paper may show."""
        return mask_name(self.name or self.english_name)

    @property
    def masked_id_number(self) -> str:
        """1101**********002X: what screens and paper may show."""
        return mask_id_number(self.id_number)

    @property
    def long_term(self) -> bool:
        """True for a card valid 长期 (no end date)."""
        return self.valid_to is None

    def expired_on(self, today: date) -> bool:
        """Whether the card's validity ended before `today`."""
        return self.valid_to is not None and self.valid_to < today

    def age_on(self, today: date) -> int:
        """Full years of age on a day (for 65+ and child rules)."""
        return today.year - self.birth.year - ((today.month, today.day) < (self.birth.month, self.birth.day))

    def __repr__(self) -> str:
        # Personal data must never reach logs: no name, number, address, dates or photo bytes.
        photo = "yes" if self.photo else "no"
        return f"IdCard(card_type={self.card_type.value!r}, expired={self.expired}, photo={photo})"

    __str__ = __repr__
