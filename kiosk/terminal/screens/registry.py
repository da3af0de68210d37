"""Which module builds which screen."""

from __future__ import annotations

from collections.abc import Callable

from kivy.uix.widget import Widget

from kiosk.terminal.screens import (
    assist,
    booking,
    browse,
    complaint,
    contact,
    evaluation,
    green,
    guide,
    home,
    identity,
    progress,
    ticket,
)
from kiosk.terminal.screens.parts import Ctx

BUILDERS: dict[str, Callable[[Ctx], Widget]] = {
    "home": home.build,
    "identity": identity.build,
    "domains": browse.domains,
    "items": browse.items,
    "search": browse.search,
    "confirm": ticket.confirm,
    "ticket": ticket.result,
    "guide": guide.build,
    "progress": progress.ask,
    "progress_result": progress.result,
    "evaluation": evaluation.ask,
    "visits": evaluation.visits,
    "rate": evaluation.rate,
    "thanks": evaluation.thanks,
    "assist": assist.build,
    "green": green.reasons,
    "green_wait": green.waiting,
    "slots": booking.slots,
    "booked": booking.booked,
    "complaint": complaint.ask,  # 反映问题 (complaints and 办不成事)
    "complaint_done": complaint.done,
    "contact": contact.build,  # 短信提醒（留手机号） after a ticket or a booking (issue 16)
}


def build(ctx: Ctx) -> Widget:
    """The widget of the current screen (home for an unknown name)."""
    return BUILDERS.get(ctx.state.screen, home.build)(ctx)
