"""What the kiosk's flow mixins (self-service, booking, green channel, complaints) use of KioskFlows,
declared once for the type checker; at run time KioskFlows provides it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.terminal.session import KioskSession, KioskState


class FlowHost:
    """Base of the flow mixins: the session, the state and the one way to call the hall server."""

    session: KioskSession

    if TYPE_CHECKING:

        @property
        def state(self) -> KioskState: ...

        def _call(
            self, busy: str, action: str, params: dict[str, Any], done: Callable[[dict[str, Any]], object]
        ) -> None: ...

        def identity_params(self) -> dict[str, Any] | None: ...
