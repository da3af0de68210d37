"""Commands of 证照自助领取 (the pickup cabinet, contract v2 extension), one model per action for every
channel: staff put a case's 证照 in a door (`DepositPickup`, REST), the cabinet asks for the doors holding the
证照 of the person whose ID card it just read (`OpenPickup`, bus `pickup.open`), and reports a door closed
again, empty or not (`PickupTaken`, bus `pickup.taken`). Which cabinet asks is the bus topic's device, never a
field; which person is the card read on that cabinet, so the identity's method must be `id_card`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hallcore.commands import Command, Identity

DEVICE_ID = r"^[a-z][a-z0-9\-]{1,40}$"


class CardIdentity(Identity):
    """The identity a cabinet read from the ID card on its own reader: nothing else opens a door."""

    method: Literal["id_card"] = Field(description="Only a card read on the cabinet opens a door")


class DepositPickup(Command):
    """Staff put the 证照 of a case (办结 or 告知承诺准予) in a door of a cabinet."""

    serial_no: str = Field(min_length=6, max_length=80)
    cabinet: str = Field(pattern=DEVICE_ID)
    door: int = Field(ge=1, le=96)


class OpenPickup(Command):
    """pickup.open: open every door holding 证照 for the person whose ID card the cabinet read."""

    identity: CardIdentity


class PickupTaken(Command):
    """pickup.taken: a door the cabinet opened is closed again; `empty` is its occupancy sensor's word."""

    door: int = Field(ge=1, le=96)
    empty: bool
