"""Personal data at rest: keyed hash for lookup, AES-GCM for the value, audited reveals, key rotation."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlmodel import select

from hallcore.errors import HallError
from hallserver.models import AuditEntry, Person
from hallserver.services import people
from hallserver.services.context import HallContext
from hallserver.services.keyring import Keyring, KeyringError, rotated
from tests.integration.helpers import id_number, tx

PERSON = id_number(123)


def test_identity_is_stored_hashed_and_encrypted(engine: Engine, ctx: HallContext) -> None:
    person = tx(engine, lambda s: people.remember(s, ctx, PERSON, "欧阳小明"))
    assert person.masked_name == "欧**明" and person.masked_id.startswith(PERSON[:4]) and "*" in person.masked_id
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM person")).mappings().one()
    assert PERSON not in str(dict(row)) and "欧阳小明" not in str(dict(row))
    assert tx(engine, lambda s: people.find(s, ctx, PERSON.lower())).id == person.id  # type: ignore[union-attr]
    again = tx(engine, lambda s: people.remember(s, ctx, PERSON))
    assert again.id == person.id  # one person, found by the keyed hash


def test_reveal_needs_a_purpose_and_is_audited(engine: Engine, ctx: HallContext) -> None:
    person = tx(engine, lambda s: people.remember(s, ctx, PERSON, "张三"))
    with pytest.raises(HallError, match="须说明用途"):
        tx(engine, lambda s: people.reveal(s, ctx, person.id, "s05", " "))  # type: ignore[arg-type]
    revealed = tx(engine, lambda s: people.reveal(s, ctx, person.id, "s05", "核对邮寄地址"))  # type: ignore[arg-type]
    assert (revealed.id_number, revealed.name, revealed.id_kind) == (PERSON, "张三", "居民身份证")
    audit = tx(engine, lambda s: s.exec(select(AuditEntry)).all())
    assert [(a.actor, a.person_id, a.action, a.purpose) for a in audit] == [
        ("s05", person.id, "reveal_identity", "核对邮寄地址")
    ]


def test_tampered_ciphertext_is_detected(engine: Engine, ctx: HallContext) -> None:
    person = tx(engine, lambda s: people.remember(s, ctx, PERSON))
    other = tx(engine, lambda s: people.remember(s, ctx, id_number(124)))

    def swap(s: object) -> None:  # move another row's ciphertext onto this one: the binding must catch it
        a, b = s.get(Person, person.id), s.get(Person, other.id)  # type: ignore[attr-defined]
        a.id_cipher = b.id_cipher
        s.add(a)  # type: ignore[attr-defined]

    tx(engine, swap)
    with pytest.raises(KeyringError):
        tx(engine, lambda s: people.reveal(s, ctx, person.id, "s05", "核对"))  # type: ignore[arg-type]


def test_key_rotation_reencrypts_everything(engine: Engine, ctx: HallContext) -> None:
    for seed in range(3):
        tx(engine, lambda s, seed=seed: people.remember(s, ctx, id_number(200 + seed), "王五"))
    old_ring = ctx.keyring
    ctx.keyring = rotated(old_ring)
    assert tx(engine, lambda s: people.reencrypt_all(s, ctx)) == 3
    assert tx(engine, lambda s: people.reencrypt_all(s, ctx)) == 0  # idempotent
    rows = tx(engine, lambda s: s.exec(select(Person)).all())
    assert {r.key_id for r in rows} == {ctx.keyring.current}
    assert tx(engine, lambda s: people.reveal(s, ctx, rows[0].id, "m01", "轮换后核验")).name == "王五"  # type: ignore[arg-type]
    ctx.keyring = Keyring(old_ring.keys)  # the retired key alone can no longer read the data
    with pytest.raises(KeyringError):
        tx(engine, lambda s: people.reveal(s, ctx, rows[0].id, "m01", "旧密钥"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "kind"),
    [("810000199001011234", "港澳居民居住证（香港）"), ("830000199001011234", "台湾居民居住证")],
)
def test_residence_permits_are_accepted(engine: Engine, ctx: HallContext, number: str, kind: str) -> None:
    from hallcore.identity import _CHECK, _WEIGHTS

    body = number[:17]
    valid = body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    assert tx(engine, lambda s: people.remember(s, ctx, valid)).id_kind == kind
