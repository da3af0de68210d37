"""A local SMSC that speaks the server side of SMPP 3.4 over TCP, with its own PDU codec (independent of the
client library, so tests check the client against the protocol, not against itself).

It answers bind_transmitter/receiver/transceiver (checking system_id and password), submit_sm with a
message id (short_message or the message_payload TLV, UCS-2 decoded), sends deliver_sm delivery receipts
on the transceiver's connection, refuses with ESME_RTHROTTLED above its rate (or for the next N submits,
for tests), answers enquire_link and unbind, and can inject a citizen's reply (mobile originated). stop()
closes everything, as an SMSC that goes down; start() again listens on the same port.

    python -m hallserver.notify.smsc_sim --port 2775 --system-id hall --password secret
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

log = logging.getLogger("hallq.smsc_sim")

BIND_RECEIVER, BIND_TRANSMITTER, SUBMIT_SM, DELIVER_SM, UNBIND = 0x01, 0x02, 0x04, 0x05, 0x06
BIND_TRANSCEIVER, ENQUIRE_LINK, GENERIC_NACK, RESP = 0x09, 0x15, 0x80000000, 0x80000000
ESME_ROK, ESME_RINVCMDID, ESME_RINVBNDSTS, ESME_RALYBND = 0x00, 0x03, 0x04, 0x05
ESME_RINVDSTADR, ESME_RBINDFAIL, ESME_RINVPASWD, ESME_RTHROTTLED = 0x0B, 0x0D, 0x0E, 0x58
TAG_RECEIPTED_MESSAGE_ID, TAG_MESSAGE_STATE, TAG_MESSAGE_PAYLOAD = 0x001E, 0x0427, 0x0424
UCS2 = 0x08
STATES = {"DELIVRD": 2, "EXPIRED": 3, "UNDELIV": 5, "REJECTD": 8}


@dataclass(frozen=True)
class Submitted:
    """A message the SMSC accepted."""

    message_id: str
    system_id: str
    source: str
    destination: str
    text: str
    registered_delivery: int
    at: float


@dataclass
class _Session:
    sock: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    bound_as: int | None = None
    system_id: str = ""
    seq: int = 0x40000000  # the SMSC's own sequence numbers, apart from the client's

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def send(self, command: int, status: int, seq: int, body: bytes = b"") -> None:
        with self.lock:
            self.sock.sendall(struct.pack(">IIII", 16 + len(body), command, status, seq) + body)


class SmscSimulator:
    """The simulator; `submitted`, `receipts_acked` and `received_counts` are what tests look at."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        system_id: str = "hallq",
        password: str = "secret",
        rate_per_s: float | None = None,
        receipts: bool = True,
    ) -> None:
        self.host, self.port = host, port
        self.system_id, self.password = system_id, password
        self.rate_per_s = rate_per_s
        self.receipts = receipts
        self.throttle_next = 0  # refuse this many next submits with ESME_RTHROTTLED
        self.down_after: int | None = None  # go down right after accepting this many messages in all
        self.undeliverable: set[str] = set()  # destinations whose receipt says UNDELIV
        self.submitted: list[Submitted] = []
        self.throttled = 0
        self.binds = 0
        self.receipts_acked: list[int] = []  # sequence numbers of deliver_sm the client answered
        self._recent: list[float] = []
        self._sessions: list[_Session] = []
        self._listener: socket.socket | None = None
        self._lock = threading.Condition()
        self._threads: list[threading.Thread] = []

    # --- life ---

    def start(self) -> SmscSimulator:
        """Listen (again, on the same port after a stop)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), name="smsc-sim-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Go down: stop listening and drop every connection."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; the port is free at once
            listener.close()
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for s in sessions:
            with contextlib.suppress(OSError):
                s.sock.shutdown(socket.SHUT_RDWR)
            s.sock.close()

    def __enter__(self) -> SmscSimulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def bound(self) -> int:
        """How many sessions are bound now."""
        with self._lock:
            return sum(1 for s in self._sessions if s.bound_as is not None)

    def wait_for(self, predicate: object, timeout: float = 5.0) -> bool:
        """Wait until predicate() (no arguments) holds."""
        with self._lock:
            return self._lock.wait_for(predicate, timeout)  # type: ignore[arg-type]

    def mo(self, phone: str, text: str) -> bool:
        """A citizen texts the hall: deliver_sm to a bound receiver/transceiver; False if none is bound."""
        body = _mo_body(f"86{phone}", text)
        for s in list(self._sessions):
            if s.bound_as in (BIND_RECEIVER, BIND_TRANSCEIVER):
                s.send(DELIVER_SM, ESME_ROK, s.next_seq(), body)
                return True
        return False

    # --- connections ---

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = _Session(sock)
            with self._lock:
                if self._listener is not listener:
                    sock.close()
                    return
                self._sessions.append(session)
            threading.Thread(target=self._serve, args=(session,), name="smsc-sim-conn", daemon=True).start()

    def _serve(self, s: _Session) -> None:
        try:
            while True:
                header = _recv(s.sock, 16)
                length, command, _status, seq = struct.unpack(">IIII", header)
                if length < 16 or length > 65536:
                    return
                body = _recv(s.sock, length - 16)
                if not self._dispatch(s, command, seq, body):
                    return
        except (OSError, ConnectionError):
            return
        finally:
            with self._lock:
                if s in self._sessions:
                    self._sessions.remove(s)
                self._lock.notify_all()
            s.sock.close()

    def _dispatch(self, s: _Session, command: int, seq: int, body: bytes) -> bool:
        if command in (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER):
            system_id, pos = _cstr(body, 0)
            password, _ = _cstr(body, pos)
            if s.bound_as is not None:
                s.send(command | RESP, ESME_RALYBND, seq, b"hallq-smsc\0")
            elif system_id != self.system_id or password != self.password:
                s.send(command | RESP, ESME_RINVPASWD, seq, b"hallq-smsc\0")
            else:
                s.bound_as, s.system_id = command, system_id
                with self._lock:
                    self.binds += 1
                    self._lock.notify_all()
                s.send(command | RESP, ESME_ROK, seq, b"hallq-smsc\0")
        elif command == SUBMIT_SM:
            self._submit(s, seq, body)
        elif command == DELIVER_SM | RESP:
            with self._lock:
                self.receipts_acked.append(seq)
                self._lock.notify_all()
        elif command == ENQUIRE_LINK:
            s.send(ENQUIRE_LINK | RESP, ESME_ROK, seq)
        elif command == ENQUIRE_LINK | RESP:
            pass
        elif command == UNBIND:
            s.send(UNBIND | RESP, ESME_ROK, seq)
            return False
        else:
            s.send(GENERIC_NACK, ESME_RINVCMDID, seq)
        return True

    def _submit(self, s: _Session, seq: int, body: bytes) -> None:
        if s.bound_as not in (BIND_TRANSMITTER, BIND_TRANSCEIVER):
            s.send(SUBMIT_SM | RESP, ESME_RINVBNDSTS, seq, b"\0")
            return
        m = _parse_submit(body)
        if self._over_rate():
            with self._lock:
                self.throttled += 1
                self._lock.notify_all()
            s.send(SUBMIT_SM | RESP, ESME_RTHROTTLED, seq, b"\0")
            return
        if not m.destination.isdigit():
            s.send(SUBMIT_SM | RESP, ESME_RINVDSTADR, seq, b"\0")
            return
        message_id = uuid.uuid4().hex[:16]
        coding, raw = m.data_coding, m.payload or m.short_message
        text = raw.decode("utf-16-be", "replace") if coding == UCS2 else raw.decode("latin-1")
        item = Submitted(message_id, s.system_id, m.source, m.destination, text, m.registered, time.time())
        s.send(SUBMIT_SM | RESP, ESME_ROK, seq, message_id.encode("ascii") + b"\0")
        with self._lock:
            self.submitted.append(item)
            self._lock.notify_all()
        if self.receipts and m.registered & 0x01 and s.bound_as == BIND_TRANSCEIVER:
            stat = "UNDELIV" if item.destination in self.undeliverable else "DELIVRD"
            s.send(DELIVER_SM, ESME_ROK, s.next_seq(), _receipt_body(item, stat))
        if self.down_after is not None and len(self.submitted) >= self.down_after:
            self.down_after = None
            self.stop()  # an outage in the middle of a batch: the response went out, the next submit fails

    def _over_rate(self) -> bool:
        with self._lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                return True
            if self.rate_per_s is None:
                return False
            now = time.monotonic()
            self._recent = [t for t in self._recent if now - t < 1.0]
            if len(self._recent) >= self.rate_per_s:
                return True
            self._recent.append(now)
            return False


# --- the codec ---


def _recv(sock: socket.socket, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise ConnectionError("peer closed")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _cstr(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\0", pos)
    return data[pos:end].decode("ascii", "replace"), end + 1


@dataclass(frozen=True)
class _Submit:
    source: str
    destination: str
    registered: int
    data_coding: int
    short_message: bytes
    payload: bytes


def _parse_submit(body: bytes) -> _Submit:
    _service_type, pos = _cstr(body, 0)
    pos += 2  # source ton, npi
    source, pos = _cstr(body, pos)
    pos += 2
    destination, pos = _cstr(body, pos)
    pos += 3  # esm_class, protocol_id, priority_flag
    _schedule, pos = _cstr(body, pos)
    _validity, pos = _cstr(body, pos)
    registered, _replace, data_coding, _default_id, sm_length = body[pos : pos + 5]
    pos += 5
    short_message = body[pos : pos + sm_length]
    pos += sm_length
    payload = b""
    while pos + 4 <= len(body):
        tag, length = struct.unpack(">HH", body[pos : pos + 4])
        if tag == TAG_MESSAGE_PAYLOAD:
            payload = body[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return _Submit(source, destination, registered, data_coding, short_message, payload)


def _deliver_body(source: str, destination: str, esm_class: int, coding: int, message: bytes, tlvs: bytes) -> bytes:
    return (
        b"\0"  # service_type
        + bytes([1, 1]) + source.encode("ascii") + b"\0"
        + bytes([4, 1]) + destination.encode("ascii") + b"\0"
        + bytes([esm_class, 0, 0]) + b"\0" + b"\0"  # protocol_id, priority; no schedule, no validity
        + bytes([0, 0, coding, 0, len(message)]) + message + tlvs
    )  # fmt: skip


def _receipt_body(item: Submitted, stat: str) -> bytes:
    stamp = datetime.fromtimestamp(item.at).strftime("%y%m%d%H%M")
    text = f"id:{item.message_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} submit date:{stamp} "
    text += f"done date:{stamp} stat:{stat} err:{'000' if stat == 'DELIVRD' else '001'} text:"
    mid = item.message_id.encode("ascii") + b"\0"
    tlvs = struct.pack(">HH", TAG_RECEIPTED_MESSAGE_ID, len(mid)) + mid
    tlvs += struct.pack(">HHB", TAG_MESSAGE_STATE, 1, STATES[stat])
    return _deliver_body(item.destination, item.source, 0x04, 0x00, text.encode("ascii"), tlvs)


def _mo_body(source: str, text: str) -> bytes:
    return _deliver_body(source, "10690000", 0x00, UCS2, text.encode("utf-16-be"), b"")


def main(argv: list[str] | None = None) -> None:
    """Run the simulator in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description="本地短信中心模拟器（SMPP 3.4 服务端）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--system-id", default="hallq")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--rate", type=float, default=None, help="submits per second before ESME_RTHROTTLED")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    sim = SmscSimulator(args.host, args.port, args.system_id, args.password, args.rate).start()
    print(f"SMSC simulator on {args.host}:{sim.port} (system_id {args.system_id})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
