"""SMS over SMPP 3.4 with smpplib: bind_transceiver, submit_sm (UCS-2, message_payload past 140 bytes so one
message is one submit and one message id), delivery receipts and citizens' replies as deliver_sm, throttling
(ESME_RTHROTTLED / ESME_RMSGQFUL) answered with a later retry. Used from one thread, the sender loop's."""

from __future__ import annotations

import contextlib
import logging
import re
import select
import time
from dataclasses import dataclass
from typing import Any

from smpplib import consts, exceptions, smpp
from smpplib.client import Client

from hallserver.notify.channels import Channel, Inbound, Receipt, Reply
from hallserver.services.notify.outbox import Claimed, Outcome

log = logging.getLogger("hallq.notify.smpp")
# smpplib logs every PDU in hex at DEBUG (numbers and texts included): its logger stays at INFO.
WIRE_LOGGER = "hallq.notify.smpp.wire"
logging.getLogger(WIRE_LOGGER).setLevel(logging.INFO)

UCS2 = consts.SMPP_ENCODING_ISO10646
ESM_DELIVERY_RECEIPT = 0x04  # esm_class bits 2-5 = 0001: an SMSC delivery receipt
SHORT_MESSAGE_MAX = 140  # bytes in short_message; longer texts go in message_payload
RETRY_STATUSES = {consts.SMPP_ESME_RTHROTTLED: "ESME_RTHROTTLED", consts.SMPP_ESME_RMSGQFUL: "ESME_RMSGQFUL"}
REFUSED_STATUSES = {
    consts.SMPP_ESME_RINVDSTADR: "ESME_RINVDSTADR",
    consts.SMPP_ESME_RINVMSGLEN: "ESME_RINVMSGLEN",
    consts.SMPP_ESME_RINVSRCADR: "ESME_RINVSRCADR",
}
_RECEIPT = re.compile(rb"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)", re.S)


@dataclass(frozen=True)
class SmppAccount:
    """Where the SMSC is and how this hall binds to it."""

    host: str
    port: int
    system_id: str
    password: str
    source_addr: str = "10690000"  # the hall's SMS service number
    timeout_s: float = 5.0
    enquire_link_s: float = 30.0


class SmppChannel(Channel):
    """A bound transceiver session, opened on first use and again after any failure."""

    name = "sms"

    def __init__(self, account: SmppAccount) -> None:
        self.account = account
        self._client: Client | None = None
        self._inbound: list[Inbound] = []
        self._last_traffic = 0.0

    # --- connection ---

    def _connected(self) -> Client:
        if self._client is not None:
            return self._client
        a = self.account
        client = Client(a.host, a.port, timeout=a.timeout_s, logger_name=WIRE_LOGGER, allow_unknown_opt_params=True)
        try:
            client.connect()
            client.bind_transceiver(system_id=a.system_id, password=a.password, system_type="hallq")
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            self._drop(client)
            raise _Down(_code(exc)) from exc
        log.info("SMSC %s:%d bound as %s", a.host, a.port, a.system_id)
        self._client = client
        self._last_traffic = time.monotonic()
        return client

    def _drop(self, client: Client | None = None) -> None:
        client = client or self._client
        self._client = None
        if client is not None and client._socket is not None:  # smpplib keeps the socket there
            with contextlib.suppress(OSError):
                client._socket.close()
            client._socket = None
            client.state = consts.SMPP_CLIENT_STATE_CLOSED

    def close(self) -> None:
        client = self._client
        if client is None:
            return
        with contextlib.suppress(exceptions.ConnectionError, exceptions.PDUError, OSError):
            client.unbind()
        self._drop()

    # --- sending ---

    def send(self, message: Claimed) -> Outcome:
        try:
            client = self._connected()
            self._drain(client)  # a closed session shows here, before anything is submitted on it
        except _Down as down:
            return Outcome("down", code=down.code)
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            self._drop()
            try:
                client = self._connected()
            except _Down as down:
                return Outcome("down", code=down.code or _code(exc))
        body = message.text.encode("utf-16-be")
        fields: dict[str, object] = {
            "source_addr_ton": consts.SMPP_TON_SBSCR,
            "source_addr_npi": consts.SMPP_NPI_ISDN,
            "source_addr": self.account.source_addr,
            "dest_addr_ton": consts.SMPP_TON_INTL,
            "dest_addr_npi": consts.SMPP_NPI_ISDN,
            "destination_addr": "86" + message.phone,
            "data_coding": UCS2,
            "registered_delivery": consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
        }
        if len(body) <= SHORT_MESSAGE_MAX:
            fields["short_message"] = body
        else:
            fields["short_message"] = b""
            fields["message_payload"] = body
        try:
            pdu = smpp.make_pdu("submit_sm", client=client, **fields)
            client.send_pdu(pdu)
        except (exceptions.ConnectionError, OSError) as exc:
            self._drop()
            return Outcome("down", code=_code(exc))
        try:
            resp = self._await(client, pdu.sequence)
        except (TimeoutError, exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            self._drop()  # submitted, never answered: the SMSC may or may not have it
            return Outcome("uncertain", code=_code(exc))
        status = int(resp.status)
        if status == consts.SMPP_ESME_ROK:
            mid = resp.message_id.decode("ascii", "replace") if isinstance(resp.message_id, bytes) else resp.message_id
            return Outcome("accepted", (str(mid),), code="submit_sm_resp")
        if status in RETRY_STATUSES:
            return Outcome("retry", code=RETRY_STATUSES[status])
        if status in REFUSED_STATUSES:
            return Outcome("refused", code=REFUSED_STATUSES[status])
        return Outcome("retry", code=f"smpp_status_{status:#x}")

    def _await(self, client: Client, sequence: int) -> Any:
        """Read PDUs until the response to `sequence`, handling what comes in between."""
        deadline = time.monotonic() + self.account.timeout_s
        while time.monotonic() < deadline:
            pdu = client.read_pdu()
            self._last_traffic = time.monotonic()
            if pdu.command == "submit_sm_resp" and pdu.sequence == sequence:
                return pdu
            self._handle(client, pdu)
        raise TimeoutError("no submit_sm_resp")

    # --- receiving ---

    def poll(self) -> list[Inbound]:
        try:
            client = self._connected()
            self._drain(client)
            if time.monotonic() - self._last_traffic > self.account.enquire_link_s:
                client.send_pdu(smpp.make_pdu("enquire_link", client=client))
                self._last_traffic = time.monotonic()
        except _Down:
            pass
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            log.warning("SMSC connection lost: %s", _code(exc))
            self._drop()
        out, self._inbound = self._inbound, []
        return out

    def _drain(self, client: Client) -> None:
        """Handle every PDU already waiting; raises ConnectionError when the SMSC closed the session."""
        while select.select([client._socket], [], [], 0)[0]:
            self._handle(client, client.read_pdu())
            self._last_traffic = time.monotonic()

    def _handle(self, client: Client, pdu: object) -> None:
        command = getattr(pdu, "command", None)
        if command == "deliver_sm":
            self._inbound.append(_inbound(pdu))
            resp = smpp.make_pdu("deliver_sm_resp", client=client)
            resp.sequence = pdu.sequence  # type: ignore[attr-defined]
            client.send_pdu(resp)
        elif command == "enquire_link":
            resp = smpp.make_pdu("enquire_link_resp", client=client)
            resp.sequence = pdu.sequence  # type: ignore[attr-defined]
            client.send_pdu(resp)
        elif command == "unbind":
            resp = smpp.make_pdu("unbind_resp", client=client)
            resp.sequence = pdu.sequence  # type: ignore[attr-defined]
            client.send_pdu(resp)
            raise exceptions.ConnectionError("SMSC unbound")


def _inbound(pdu: object) -> Inbound:
    """A receipt (esm_class bit 2) or a citizen's reply."""
    esm = int(getattr(pdu, "esm_class", 0) or 0)
    text = getattr(pdu, "short_message", b"") or getattr(pdu, "message_payload", b"") or b""
    if esm & ESM_DELIVERY_RECEIPT:
        found = _RECEIPT.search(text)
        mid = getattr(pdu, "receipted_message_id", None) or (found.group("id") if found else b"")
        stat = found.group("stat").decode("ascii") if found else "UNKNOWN"
        return Receipt(mid.decode("ascii", "replace") if isinstance(mid, bytes) else str(mid), stat)
    coding = int(getattr(pdu, "data_coding", 0) or 0)
    decoded = text.decode("utf-16-be", "replace") if coding == UCS2 else text.decode("latin-1")
    source = getattr(pdu, "source_addr", b"")
    phone = source.decode("ascii", "replace") if isinstance(source, bytes) else str(source)
    return Reply(phone[2:] if phone.startswith("86") and len(phone) == 13 else phone, decoded)


class _Down(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _code(exc: BaseException) -> str:
    """A short English code for the log (never a message that could hold a number)."""
    if isinstance(exc, exceptions.PDUError) and len(exc.args) > 1:
        return f"smpp_status_{int(exc.args[1]):#x}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, exceptions.ConnectionError):
        return "connection_failed"
    return type(exc).__name__.lower()
