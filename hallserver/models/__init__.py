"""Database tables, one module per job; every table and enum is importable from here.

Importing this package registers all tables on SQLModel's metadata (the migrations compare against it).
"""

from __future__ import annotations

from hallserver.models.access import AuditEntry, AuthToken, Credential, RequestLog
from hallserver.models.appointments import (
    BOOKING_STATE_LABELS,
    HOLDING_STATES,
    AppointmentSlot,
    Booking,
    BookingState,
    BookingSuspension,
)
from hallserver.models.cases import (
    NOTICE_OUTCOMES,
    OPEN_CASE_STATES,
    RECEIPT_OUTCOMES,
    CaseEvent,
    CaseStatus,
    Outcome,
    Person,
    SerialCounter,
    ServiceCase,
    SupplementWatch,
    Visit,
    needs_paper,
)
from hallserver.models.city_sync import SyncOutbox, SyncState  # the city link's outbox
from hallserver.models.columns import UTCDateTime, utc_field
from hallserver.models.complaints import Complaint, ComplaintEvent, ComplaintState  # complaints, 办不成事
from hallserver.models.departments import DepartmentEvent
from hallserver.models.evaluations import Evaluation, Rectification
from hallserver.models.notifications import Contact, DeliveryLog, OutboxMessage, OutboxState, Subscription
from hallserver.models.queue import (
    ACTIVE_STATES,
    HELD_STATES,
    Priority,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketState,
    WindowGroup,
    WindowRow,
    WindowStatus,
    new_public_token,
)

__all__ = [
    "ACTIVE_STATES",
    "BOOKING_STATE_LABELS",
    "HELD_STATES",
    "HOLDING_STATES",
    "NOTICE_OUTCOMES",
    "OPEN_CASE_STATES",
    "RECEIPT_OUTCOMES",
    "AppointmentSlot",
    "AuditEntry",
    "AuthToken",
    "Booking",
    "BookingState",
    "BookingSuspension",
    "CaseEvent",
    "CaseStatus",
    "Complaint",
    "ComplaintEvent",
    "ComplaintState",
    "Contact",
    "Credential",
    "DeliveryLog",
    "DepartmentEvent",
    "Evaluation",
    "OutboxMessage",
    "OutboxState",
    "Outcome",
    "Person",
    "Priority",
    "Rectification",
    "RequestLog",
    "SerialCounter",
    "ServiceCase",
    "Subscription",
    "SupplementWatch",
    "SyncOutbox",
    "SyncState",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "TicketState",
    "UTCDateTime",
    "Visit",
    "WindowGroup",
    "WindowRow",
    "WindowStatus",
    "needs_paper",
    "new_public_token",
    "utc_field",
]
