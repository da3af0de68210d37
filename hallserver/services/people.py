"""Citizens' identities: stored as a keyed hash plus AES-GCM ciphertext, shown masked, revealed to
staff only with a purpose, and every reveal written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
from hallserver.services import ticket_rows
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
    digest = remember_row(session, ctx, id_number, name)
    # populate_existing: the row as the upsert left it, even when this session had it loaded before.
    found = select(Person).where(Person.id_hash == digest).execution_options(populate_existing=True)
    return session.exec(found).one()


def remember_row(session: Session, ctx: HallContext, id_number: str, name: str | None = None) -> str:
    """Create or update the person's row in one statement, reading nothing; returns the identity hash."""
    statement, row = person_upsert(ctx, id_number, name)
    ticket_rows.run(session, statement, **row)
    return str(row["id_hash"])


def person_upsert(ctx: HallContext, id_number: str, name: str | None = None) -> tuple[str, dict[str, Any]]:
    """The statement and values that create or update the person's row (ticket_rows.PERSON_KEEP / _NAMED).

    Two kiosks seeing the same citizen at once make one row, not an error. A given name is sealed with the
    same key as the number, and both are written afresh under the current key (the number is in hand), so a
    row never holds values under two keys."""
    number = normalize_id_number(id_number)
    digest = identity_hash(ctx.identity_key, number)
    key_id, cipher = ctx.keyring.encrypt(number, aad=digest)
    row: dict[str, Any] = {
        "id_hash": digest,
        "id_kind": id_kind(number),
        "masked_id": mask_id_number(number),
        "key_id": key_id,
        "id_cipher": cipher,
        "created_at": ctx.now(),
    }
    if name and name.strip():
        _, row["name_cipher"] = ctx.keyring.encrypt(name.strip(), aad=digest + ":name")
        row["masked_name"] = mask_name(name)
        return ticket_rows.PERSON_NAMED, row
    return ticket_rows.PERSON_KEEP, row


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
