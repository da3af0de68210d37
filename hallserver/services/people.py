"""Citizens' identities: stored as a keyed hash plus AES-GCM ciphertext, shown masked, revealed to
staff only with a purpose, and every reveal written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from hallcore.errors import HallError, NotFound
from hallcore.identity import (
    id_kind,
    identity_hash,
    mask_id_number,
    mask_name,
    normalize_id_number,
)
from hallserver.models import AuditEntry, Person
from hallserver.services.context import HallContext


@dataclass(frozen=True)
class Revealed:
    """A decrypted identity, for the staff member who asked (and audited)."""

    person_id: int
    id_number: str
    name: str | None
    id_kind: str


def remember(session: Session, ctx: HallContext, id_number: str, name: str | None = None) -> Person:
    """The person with this ID number, created on first sight; a newly given name is stored too."""
    number = normalize_id_number(id_number)
    digest = identity_hash(ctx.identity_key, number)
    key_id, cipher = ctx.keyring.encrypt(number, aad=digest)
    row = {
        "id_hash": digest,
        "id_kind": id_kind(number),
        "masked_id": mask_id_number(number),
        "key_id": key_id,
        "id_cipher": cipher,
        "created_at": ctx.now(),
    }
    # Insert-or-nothing, then read: two kiosks seeing the same citizen at once make one row, not an error.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Person).values(**row).on_conflict_do_nothing(index_elements=["id_hash"]))
    person = session.exec(select(Person).where(Person.id_hash == digest)).one()
    if name and name.strip():
        # The name is sealed with the same key as the number, so one re-encryption covers the row.
        _, person.name_cipher = _seal(ctx, person, name.strip())
        person.masked_name = mask_name(name)
    session.add(person)
    session.flush()
    return person


def _seal(ctx: HallContext, person: Person, value: str) -> tuple[str, str]:
    if person.key_id != ctx.keyring.current:  # keep both values of a row under one key
        number = ctx.keyring.decrypt(person.key_id, person.id_cipher, aad=person.id_hash)
        person.key_id, person.id_cipher = ctx.keyring.encrypt(number, aad=person.id_hash)
    return ctx.keyring.encrypt(value, aad=person.id_hash + ":name")


def find(session: Session, ctx: HallContext, id_number: str) -> Person | None:
    """Look a person up by ID number (through the keyed hash; nothing is decrypted)."""
    digest = identity_hash(ctx.identity_key, id_number)
    return session.exec(select(Person).where(Person.id_hash == digest)).first()


def reveal(session: Session, ctx: HallContext, person_id: int, actor: str, purpose: str) -> Revealed:
    """Decrypt a person's identity for a staff member; refused without a purpose; always audited."""
    if not purpose or len(purpose.strip()) < 2:
        raise HallError("invalid", "查看申请人身份信息须说明用途")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("没有这位申请人的记录", person_id=person_id)
    session.add(
        AuditEntry(
            at=ctx.now(),
            actor=actor,
            action="reveal_identity",
            person_id=person_id,
            purpose=purpose.strip()[:200],
        )
    )
    number = ctx.keyring.decrypt(person.key_id, person.id_cipher, aad=person.id_hash)
    name = (
        ctx.keyring.decrypt(person.key_id, person.name_cipher, aad=person.id_hash + ":name")
        if person.name_cipher
        else None
    )
    return Revealed(person_id, number, name, person.id_kind)


def reencrypt_all(session: Session, ctx: HallContext) -> int:
    """Re-encrypt every stored identity with the current key (after a rotation); returns how many."""
    count = 0
    for person in session.exec(select(Person).where(Person.key_id != ctx.keyring.current)).all():
        number = ctx.keyring.decrypt(person.key_id, person.id_cipher, aad=person.id_hash)
        name = (
            ctx.keyring.decrypt(person.key_id, person.name_cipher, aad=person.id_hash + ":name")
            if person.name_cipher
            else None
        )
        person.key_id, person.id_cipher = ctx.keyring.encrypt(number, aad=person.id_hash)
        if name is not None:
            _, person.name_cipher = ctx.keyring.encrypt(name, aad=person.id_hash + ":name")
        session.add(person)
        count += 1
    return count
