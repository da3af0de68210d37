"""The 256-byte text block: UCS-2 little-endian, space padded, one fixed layout per card type, told apart
by the type flag at offset 248 (' ' resident ID, 'I' 2017 foreigner card, 'Y' 2023 foreigner card, 'J'
Hong Kong/Macao/Taiwan residence permit). This module only cuts and joins fields; parse.py gives them meaning."""

from __future__ import annotations

from kiosk.idcard.card import CardType

TEXT_LEN = 256
FLAG_OFFSET = 248
Layout = tuple[tuple[str, int, int], ...]  # (field, offset, bytes)

RESIDENT: Layout = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("nation", 32, 4),
    ("birth", 36, 16),
    ("address", 52, 70),
    ("id_number", 122, 36),
    ("issuer", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("reserved", 220, 36),
)

# 2017 card (外国人永久居留身份证机读信息): the English name comes first, the number has 15 characters.
FOREIGNER: Layout = (
    ("english_name", 0, 120),
    ("sex", 120, 2),
    ("id_number", 122, 30),
    ("nationality", 152, 6),
    ("name", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("birth", 220, 16),
    ("version", 236, 4),
    ("authority_code", 240, 8),
    ("flag", 248, 2),
    ("reserved", 250, 6),
)

# 港澳台居民居住证机读信息规范: the resident layout, no nation, then the travel permit number and issue count.
HMT_RESIDENCE: Layout = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("reserved1", 32, 4),
    ("birth", 36, 16),
    ("address", 52, 70),
    ("id_number", 122, 36),
    ("issuer", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("pass_number", 220, 18),
    ("issue_count", 238, 4),
    ("reserved2", 242, 6),
    ("flag", 248, 2),
    ("reserved3", 250, 6),
)

# 2023 card, as recalled from the 2023 machine-readable rules (not checked against a real card): the
# resident layout with the renewal count where the nation was and the English name where the address was.
FOREIGNER_2023: Layout = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("issue_count", 32, 4),
    ("birth", 36, 16),
    ("english_name", 52, 70),
    ("id_number", 122, 36),
    ("issuer", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("english_name_more", 220, 22),
    ("nationality", 242, 6),
    ("flag", 248, 2),
    ("previous_number", 250, 6),
)

FLAGS: dict[str, CardType] = {
    "": CardType.RESIDENT,
    "I": CardType.FOREIGNER,
    "Y": CardType.FOREIGNER_2023,
    "J": CardType.HMT_RESIDENCE,
}
LAYOUTS: dict[CardType, Layout] = {
    CardType.RESIDENT: RESIDENT,
    CardType.FOREIGNER: FOREIGNER,
    CardType.FOREIGNER_2023: FOREIGNER_2023,
    CardType.HMT_RESIDENCE: HMT_RESIDENCE,
}
FLAG_OF: dict[CardType, str] = {kind: flag for flag, kind in FLAGS.items()}


class TextBlockError(ValueError):
    """A block that is not 256 bytes, has an unknown type flag or text that does not fit."""


def _text(raw: bytes) -> str:
    return raw.decode("utf-16-le", errors="replace").replace("\x00", " ").strip()


def card_type_of(block: bytes) -> CardType:
    """The card type from the flag at offset 248."""
    if len(block) != TEXT_LEN:
        raise TextBlockError(f"text block has {len(block)} bytes, not {TEXT_LEN}")
    flag = _text(block[FLAG_OFFSET : FLAG_OFFSET + 2])
    if flag not in FLAGS:
        raise TextBlockError(f"unknown card type flag {flag!r}")
    return FLAGS[flag]


def decode_block(block: bytes) -> tuple[CardType, dict[str, str]]:
    """(card type, every field of its layout as stripped text)."""
    kind = card_type_of(block)
    fields = {name: _text(block[offset : offset + size]) for name, offset, size in LAYOUTS[kind]}
    return kind, fields


def encode_block(kind: CardType, fields: dict[str, str]) -> bytes:
    """The block a card of this type carries (the simulator's side); fields missing are spaces."""
    layout = LAYOUTS[kind]
    unknown = set(fields) - {name for name, _, _ in layout}
    if unknown:
        raise TextBlockError(f"fields {sorted(unknown)} are not in the {kind.name} layout")
    block = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    values = dict(fields)
    if FLAG_OF[kind]:
        values["flag"] = FLAG_OF[kind]
    for name, offset, size in layout:
        raw = values.get(name, "").encode("utf-16-le")
        if len(raw) > size:
            raise TextBlockError(f"{name} is {len(raw) // 2} characters, at most {size // 2} fit")
        block[offset : offset + len(raw)] = raw
    return bytes(block)
