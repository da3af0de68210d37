"""Contacts, consent and the outbox rules, on the real database: numbers checked with Chinese messages and
kept only hashed and encrypted, consent required, opt-out honoured, enqueue idempotent, rate limits."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from hallcore.clock import ManualClock
from hallcore.contacts import ContactConsent, mask_phone, normalize_phone
from hallcore.errors import HallError
from hallserver.db import session_scope
from hallserver.models import Contact, OutboxMessage
from hallserver.services.context import HallContext
from hallserver.services.notify import contacts, outbox, templates
from hallserver.services.notify.outbox import Outcome, Policy
from tests.integration.helpers import id_number, issue
from tests.notify.conftest import PHONE, all_text, subscribe_ticket

RESULT = {"item": "居住证申领", "serial": "S1", "status": "审查中"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请输入手机号码"),
        ("1380013800", "手机号码应为11位数字"),
        ("138001380001", "手机号码应为11位数字"),
        ("1380013800a", "手机号码只能包含数字"),
        ("12800138000", "请输入有效的手机号码"),
        ("02088886666", "短信提醒仅支持手机"),
    ],
)
def test_bad_numbers_are_refused_in_chinese(raw: str, message: str) -> None:
    with pytest.raises(HallError) as refused:
        normalize_phone(raw)
    assert refused.value.code == "invalid" and message in refused.value.message


def test_numbers_are_normalised_and_masked() -> None:
    for raw in ("138 0013 8000", "+86 138-0013-8000", "8613800138000", "008613800138000"):
        assert normalize_phone(raw) == PHONE
    assert mask_phone(PHONE) == "138****8000"


def test_every_template_fits_one_long_sms_and_needs_its_parameters(ctx: HallContext) -> None:
    serial = "11440300MB2D41730K20261208000100001"
    sample = {"ticket": "A1234", "ahead": 3, "group": "公安户政", "date": "12月08日", "time": "09:30",
              "item": "居住证申领（首次申领）", "deadline": "2026年12月18日", "serial": serial,
              "status": "审查中", "place": "1楼综合窗口", "code": "123456",
              "link": "https://zwfw.example.gov.cn/m/rate/1234567.20261130.AAAAAAAAAAAAAAAAAAAAAAAA"}  # fmt: skip
    for name in templates.TEMPLATES:
        text = templates.render(name, sample, ctx.profile.hall.name)
        # one submit_sm (message_payload): two UCS-2 segments, three for the invitation with its link
        assert len(text) <= (201 if name == "rating_invite" else 130), (name, len(text))
        assert text.startswith(f"【{ctx.profile.hall.name}】") and text.endswith("回复TD退订")
    with pytest.raises(HallError, match="缺少参数"):
        templates.render("near_turn", {"ticket": "A001"}, "x")


def test_consent_is_required_and_the_number_is_kept_only_hashed_and_encrypted(
    ctx: HallContext, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ticket = issue(db, ctx, group="consult")
    with session_scope(db) as s, pytest.raises(HallError, match="需经本人同意"):
        contacts.from_kiosk(s, ctx, ContactConsent(phone=PHONE, consent=False, ticket=ticket.number), "kiosk-01")
    with session_scope(db) as s, pytest.raises(HallError, match="手机号码应为11位"):
        contacts.from_kiosk(s, ctx, ContactConsent(phone="12345", consent=True, ticket=ticket.number), "kiosk-01")
    with session_scope(db) as s:
        done = contacts.from_kiosk(s, ctx, ContactConsent(phone=PHONE, consent=True, ticket=ticket.number), "kiosk-01")
        assert done.view()["masked_phone"] == "138****8000"
        contact = s.exec(select(Contact)).one()
        assert contacts.phone_of(ctx, contact) == PHONE  # staff-side channels can still send
        assert (contact.consent_channel, contact.consent_by) == ("kiosk", "kiosk-01")
    assert PHONE not in all_text(db)
    assert PHONE not in "\n".join(r.getMessage() for r in caplog.records)


def test_who_may_attach_a_number_to_a_ticket(ctx: HallContext, db: Engine, clock: ManualClock) -> None:
    person = id_number(11)
    named = issue(db, ctx, group="consult", id_number=person, name="张小三")
    anonymous = issue(db, ctx, group="consult")
    with session_scope(db) as s, pytest.raises(HallError) as refused:
        contacts.from_kiosk(s, ctx, ContactConsent(phone=PHONE, consent=True, ticket=named.number), "kiosk-01")
    assert refused.value.code == "forbidden" and "身份证" in refused.value.message
    with session_scope(db) as s:
        cmd = ContactConsent.model_validate(
            {"phone": PHONE, "consent": True, "ticket": named.number,
             "identity": {"id_number": person, "method": "id_card"}}
        )  # fmt: skip
        assert contacts.from_kiosk(s, ctx, cmd, "kiosk-01").subjects == (f"ticket:{named.id}",)
    clock.advance(minutes=16)
    with session_scope(db) as s, pytest.raises(HallError) as late:
        contacts.from_kiosk(s, ctx, ContactConsent(phone=PHONE, consent=True, ticket=anonymous.number), "kiosk-01")
    assert late.value.code == "forbidden" and "15分钟" in late.value.message
    with session_scope(db) as s, pytest.raises(HallError) as unknown:
        contacts.from_kiosk(s, ctx, ContactConsent(phone=PHONE, consent=True, ticket="Z999"), "kiosk-01")
    assert unknown.value.code == "not_found"


def test_enqueue_is_idempotent_by_key(ctx: HallContext, db: Engine) -> None:
    ticket_id = subscribe_ticket(db, ctx)
    for _ in range(3):
        with session_scope(db) as s:
            rows = outbox.enqueue(
                s, ctx, key="case:S1:审查中", template="case_result", params=RESULT, subjects=[f"ticket:{ticket_id}"]
            )
            assert len(rows) == 1
    with session_scope(db) as s:
        assert len(s.exec(select(OutboxMessage)).all()) == 1


def test_opt_out_cancels_what_is_queued_and_refuses_what_comes(ctx: HallContext, db: Engine) -> None:
    ticket_id = subscribe_ticket(db, ctx)
    subjects = [f"ticket:{ticket_id}"]
    with session_scope(db) as s:
        outbox.enqueue(s, ctx, key="a", template="case_result", params=RESULT, subjects=subjects)
        assert contacts.opt_out_number(s, ctx, PHONE, via="window") == 1
    with session_scope(db) as s:
        assert s.exec(select(OutboxMessage)).one().state == "cancelled"
        assert outbox.enqueue(s, ctx, key="b", template="case_result", params=RESULT, subjects=subjects) == []
        assert outbox.claim_due(s, ctx, ["sms"]) == []
    with session_scope(db) as s:  # a new consent lifts the opt-out
        contacts.record(s, ctx, PHONE, True, channel="sms", via="window", by="s16", subjects=subjects)
        assert len(outbox.enqueue(s, ctx, key="c", template="case_result", params=RESULT, subjects=subjects)) == 1


def test_rate_limit_per_number_defers_instead_of_dropping(ctx: HallContext, db: Engine, clock: ManualClock) -> None:
    ticket_id = subscribe_ticket(db, ctx)
    policy = Policy(per_hour=2, per_day=10)
    with session_scope(db) as s:
        for n in range(3):
            outbox.enqueue(s, ctx, key=f"m{n}", template="case_result", params=RESULT, subjects=[f"ticket:{ticket_id}"])
    first = clock.now()
    with session_scope(db) as s:
        claimed = outbox.claim_due(s, ctx, ["sms"], policy=policy)
        assert len(claimed) == 2 and claimed[0].phone == PHONE
        for c in claimed:
            outbox.record_outcome(s, ctx, c.outbox_id, Outcome("accepted", (f"id{c.outbox_id}",)), policy)
    with session_scope(db) as s:
        third = s.exec(select(OutboxMessage).where(OutboxMessage.dedup_key.startswith("m2"))).one()  # type: ignore[attr-defined]
        assert third.state == "queued" and third.next_try_at == first + timedelta(hours=1)
        # A code the citizen just asked for is not held behind the hall's notices (it has its own limits).
        outbox.enqueue(
            s, ctx, key="code", template="lookup_code", params={"nonce": "n1"}, subjects=[f"ticket:{ticket_id}"]
        )
    with session_scope(db) as s:
        (code,) = outbox.claim_due(s, ctx, ["sms"], policy=policy)
        assert code.template == "lookup_code" and "验证码为" in code.text
        outbox.record_outcome(s, ctx, code.outbox_id, Outcome("accepted", ("idc",)), policy)
    clock.advance(minutes=59)
    with session_scope(db) as s:
        assert outbox.claim_due(s, ctx, ["sms"], policy=policy) == []
    clock.advance(minutes=2)
    with session_scope(db) as s:
        assert [c.dedup_key.split(":")[0] for c in outbox.claim_due(s, ctx, ["sms"], policy=policy)] == ["m2"]


def test_retries_back_off_and_give_up(ctx: HallContext, db: Engine) -> None:
    ticket_id = subscribe_ticket(db, ctx)
    policy = Policy(backoff_s=10, max_attempts=3)
    with session_scope(db) as s:
        [row] = outbox.enqueue(s, ctx, key="x", template="case_result", params=RESULT, subjects=[f"ticket:{ticket_id}"])
        start = ctx.now()
        outbox.record_outcome(s, ctx, row.id, Outcome("retry", code="ESME_RTHROTTLED"), policy)  # type: ignore[arg-type]
        assert row.next_try_at == start + timedelta(seconds=10)
        outbox.record_outcome(s, ctx, row.id, Outcome("retry", code="ESME_RTHROTTLED"), policy)  # type: ignore[arg-type]
        assert row.next_try_at == start + timedelta(seconds=20)
        outbox.record_outcome(s, ctx, row.id, Outcome("retry", code="ESME_RTHROTTLED"), policy)  # type: ignore[arg-type]
        assert (row.state, row.last_error) == ("failed", "gave_up:ESME_RTHROTTLED")


def test_a_message_too_late_expires_instead_of_going_out(ctx: HallContext, db: Engine, clock: ManualClock) -> None:
    ticket_id = subscribe_ticket(db, ctx)
    with session_scope(db) as s:
        outbox.enqueue(
            s, ctx, key="late", template="case_result", params=RESULT, subjects=[f"ticket:{ticket_id}"],
            expires_at=clock.now() + timedelta(minutes=5),
        )  # fmt: skip
    clock.advance(minutes=6)
    with session_scope(db) as s:
        assert outbox.claim_due(s, ctx, ["sms"]) == []
        assert s.exec(select(OutboxMessage)).one().state == "expired"


def test_a_claimed_message_is_nobody_elses_until_its_sender_is_presumed_dead(
    ctx: HallContext, db: Engine, clock: ManualClock
) -> None:
    ticket_id = subscribe_ticket(db, ctx)
    with session_scope(db) as s:
        outbox.enqueue(s, ctx, key="one", template="case_result", params=RESULT, subjects=[f"ticket:{ticket_id}"])
    with session_scope(db) as s:
        assert len(outbox.claim_due(s, ctx, ["sms"])) == 1
    with session_scope(db) as s:  # a second sender (or process) finds nothing to send
        assert outbox.claim_due(s, ctx, ["sms"]) == []
        assert outbox.requeue_stale(s, ctx) == 0
    clock.advance(minutes=3)  # the first sender died without an answer
    with session_scope(db) as s:
        assert outbox.requeue_stale(s, ctx) == 1
        assert len(outbox.claim_due(s, ctx, ["sms"])) == 1
        row = s.exec(select(OutboxMessage)).one()
        assert [e.event for e in outbox.log_of(s, row.id)] == ["queued", "uncertain"]  # type: ignore[arg-type]


@pytest.mark.postgres
def test_the_outbox_works_the_same_on_both_databases(ctx: HallContext, engine: Engine) -> None:
    ticket_id = subscribe_ticket(engine, ctx)
    for _ in range(2):
        with session_scope(engine) as s:
            outbox.enqueue(s, ctx, key="k", template="case_result", params=RESULT, subjects=[f"ticket:{ticket_id}"])
    with session_scope(engine) as s:
        [claimed] = outbox.claim_due(s, ctx, ["sms"])
        assert claimed.phone == PHONE and claimed.text.endswith("回复TD退订")
        outbox.record_outcome(s, ctx, claimed.outbox_id, Outcome("accepted", ("m-1",)))
    with session_scope(engine) as s:
        assert outbox.record_receipt(s, ctx, "m-1", "DELIVRD") is not None
        assert outbox.counts(s) == {"delivered": 1}
    assert PHONE not in all_text(engine)
