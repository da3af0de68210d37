"""Contacts: a phone number kept as a keyed hash + AES-GCM ciphertext, the consent it was given with, what it
is subscribed to, and opt-out (which also cancels what is still queued for it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select, update

from hallcore.contacts import ContactConsent, mask_phone, normalize_phone, phone_hash
from hallcore.errors import HallError, NotFound
from hallcore.identity import identity_hash
from hallserver.models import (
    Booking,
    Contact,
    DeliveryLog,
    OutboxMessage,
    OutboxState,
    Person,
    Subscription,
    Ticket,
    Visit,
)
from hallserver.models.queue import TicketState
from hallserver.services.auth import Forbidden
from hallserver.services.context import HallContext

# How long after issue an anonymous ticket may still get a number from the kiosk that issued it.
ANONYMOUS_TICKET_MINUTES = 15
LIVE_TICKET_STATES = (TicketState.waiting, TicketState.called, TicketState.serving)


@dataclass(frozen=True)
class Recorded:
    """What a consent recorded: the masked number and the subjects it now hears about."""

    contact: Contact
    subjects: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"已登记手机号 {self.contact.masked_phone}，将发送办事提醒；回复TD可退订"

    def view(self) -> dict[str, object]:
        """The reply on every channel: never the full number."""
        return {
            "contact_id": self.contact.id,
            "masked_phone": self.contact.masked_phone,
            "channel": self.contact.channel,
            "subjects": list(self.subjects),
            "message": self.message,
        }


def record(
    session: Session,
    ctx: HallContext,
    phone: str,
    consent: bool,
    *,
    channel: str,
    via: str,
    by: str,
    subjects: Iterable[str] = (),
    person_hash: str | None = None,
) -> Recorded:
    """Keep a number with its consent (a new consent also lifts an earlier opt-out) and subscribe it."""
    if not consent:
        raise HallError("invalid", "需经本人同意后才能登记手机号码接收提醒")
    number = normalize_phone(phone)
    digest = phone_hash(ctx.identity_key, number)
    now = ctx.now()
    contact = session.exec(select(Contact).where(Contact.phone_hash == digest)).first()
    if contact is None:
        key_id, cipher = ctx.keyring.encrypt(number, aad=digest)
        contact = Contact(
            phone_hash=digest,
            masked_phone=mask_phone(number),
            key_id=key_id,
            phone_cipher=cipher,
            created_at=now,
            updated_at=now,
        )
    contact.channel = channel
    contact.consent_at, contact.consent_channel, contact.consent_by = now, via, by
    contact.opted_out_at = contact.opt_out_channel = None
    if person_hash:
        contact.identity_hash = person_hash
    contact.updated_at = now
    session.add(contact)
    session.flush()
    wanted = tuple(dict.fromkeys(subjects))
    for subject in wanted:
        subscribe(session, ctx, contact, subject)
    return Recorded(contact, wanted)


def subscribe(session: Session, ctx: HallContext, contact: Contact, subject: str) -> None:
    """Let a contact hear about a subject (idempotent)."""
    exists = session.exec(
        select(Subscription.id).where(Subscription.subject == subject, Subscription.contact_id == contact.id)
    ).first()
    if exists is None:
        assert contact.id is not None
        session.add(Subscription(subject=subject, contact_id=contact.id, created_at=ctx.now()))
        session.flush()


def reachable_for(session: Session, subjects: Iterable[str], person_hash: str | None = None) -> list[Contact]:
    """Contacts that consented and did not opt out, subscribed to any subject or linked to the person."""
    wanted = list(subjects)
    found: dict[int, Contact] = {}
    if wanted:
        rows = session.exec(
            select(Contact).join(Subscription, col(Subscription.contact_id) == col(Contact.id))
            .where(col(Subscription.subject).in_(wanted))
        ).all()  # fmt: skip
        found |= {c.id: c for c in rows if c.id is not None}
    if person_hash:
        found |= {
            c.id: c for c in session.exec(select(Contact).where(Contact.identity_hash == person_hash)).all() if c.id
        }
    return [c for _, c in sorted(found.items()) if reachable(c)]


def phone_of(ctx: HallContext, contact: Contact) -> str:
    """The plaintext number, for a channel about to send (never logged, never returned by an API)."""
    return ctx.keyring.decrypt(contact.key_id, contact.phone_cipher, aad=contact.phone_hash)


def find(session: Session, ctx: HallContext, phone: str) -> Contact | None:
    """A contact by its number."""
    digest = phone_hash(ctx.identity_key, phone)
    return session.exec(select(Contact).where(Contact.phone_hash == digest)).first()


def reachable(contact: Contact) -> bool:
    """Consent given and not withdrawn."""
    return contact.consent_at is not None and contact.opted_out_at is None


def opt_out(session: Session, ctx: HallContext, contact: Contact, via: str) -> int:
    """Withdraw consent: nothing more is sent; queued messages are cancelled (how many)."""
    now = ctx.now()
    contact.opted_out_at, contact.opt_out_channel, contact.updated_at = now, via, now
    session.add(contact)
    queued = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.contact_id == contact.id, OutboxMessage.state == OutboxState.queued
        )
    ).all()
    if queued:
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(queued), col(OutboxMessage.state) == OutboxState.queued)
            .values(state=OutboxState.cancelled, last_error="opted_out")
        )
        session.add_all(DeliveryLog(outbox_id=i, at=now, event="cancelled", detail="opted_out") for i in queued if i)
    session.flush()
    return len(queued)


def opt_out_number(session: Session, ctx: HallContext, phone: str, via: str) -> int:
    """Opt a number out (staff on request); not_found when it was never registered."""
    contact = find(session, ctx, normalize_phone(phone))
    if contact is None:
        raise NotFound("该手机号码没有登记接收提醒")
    return opt_out(session, ctx, contact, via)


# --- who may attach a number to what ---


def from_kiosk(session: Session, ctx: HallContext, cmd: ContactConsent, device_id: str) -> Recorded:
    """contact.consent from a kiosk: a ticket it just issued (real-name tickets need the same identity), a
    booking (with the booking's identity), or just the person (with identity) for their cases."""
    person = identity_hash(ctx.identity_key, cmd.identity.id_number) if cmd.identity else None
    subjects: list[str] = []
    if cmd.ticket:
        subjects.append(f"ticket:{_kiosk_ticket(session, ctx, cmd.ticket, person)}")
    if cmd.booking_code:
        subjects.append(f"booking:{_kiosk_booking(session, cmd.booking_code, person)}")
    if not subjects and person is None:
        raise HallError("invalid", "请先取号、签到或读取身份证，再登记接收提醒的手机号码")
    return record(
        session, ctx, cmd.phone, cmd.consent, channel=cmd.channel, via="kiosk", by=device_id, subjects=subjects,
        person_hash=person,
    )  # fmt: skip


def _kiosk_ticket(session: Session, ctx: HallContext, number: str, person: str | None) -> int:
    ticket = session.exec(
        select(Ticket).where(Ticket.service_date == ctx.today(), Ticket.number == number.strip().upper())
    ).first()
    if ticket is None or ticket.state not in LIVE_TICKET_STATES:
        raise NotFound(f"今天没有正在等候的 {number} 号")
    if ticket.identity_hash is not None:
        if person != ticket.identity_hash:
            raise Forbidden("请读取取号人的身份证后再登记手机号码")
    elif ctx.now() - ticket.issued_at > timedelta(minutes=ANONYMOUS_TICKET_MINUTES):
        raise Forbidden("取号已超过15分钟，请到窗口登记手机号码")
    assert ticket.id is not None
    return ticket.id


def _kiosk_booking(session: Session, code: str, person: str | None) -> int:
    booking = session.exec(select(Booking).where(Booking.code == code.strip().upper())).first()
    if booking is None:
        raise NotFound("预约码不存在")
    if person != booking.identity_hash:
        raise Forbidden("请读取预约人的身份证后再登记手机号码")
    assert booking.id is not None
    return booking.id


def for_visit(
    session: Session, ctx: HallContext, visit_id: int, phone: str, consent: bool, channel: str, by: str
) -> Recorded:
    """Window staff record a number for the citizen of a visit: the visit, its ticket and, for a real-name
    visit, the person's cases."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"办件记录 {visit_id} 不存在")
    person = session.get(Person, visit.person_id) if visit.person_id else None
    subjects = [f"visit:{visit_id}", f"ticket:{visit.ticket_id}"]
    if visit.serial_no:
        subjects.append(f"case:{visit.serial_no}")
    return record(
        session, ctx, phone, consent, channel=channel, via="window", by=by, subjects=subjects,
        person_hash=person.id_hash if person else None,
    )  # fmt: skip
