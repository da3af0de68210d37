"""A local stand-in for the provincial 好差评 platform: HTTPS, checks the signature (401 otherwise), every
record's every field (`gbt39046.validate`), and answers per record. A batch id is stored once: the same batch
again gets the first answer (`duplicate: true`) and stores nothing; the same id with other content is 409.

    python -m city.platform.receiver --cert server.crt --key server.key --secret-file platform.key \\
        [--host 127.0.0.1] [--port 8443] [--data received.db]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sqlite3
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from city.platform import gbt39046, signing

log = logging.getLogger("hallq.platform.receiver")
PATH = "/api/haocp/batches"
MAX_BODY = 16 * 1024 * 1024
MAX_RECORDS = 5000


class Ledger:
    """What the platform stored: batches by id (with their answer) and records (SQLite, thread-safe)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.lock = threading.Lock()
        with self.lock, self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS batch (batch_id TEXT PRIMARY KEY, digest TEXT, answer TEXT)")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS record (batch_id TEXT, record_id TEXT, version INTEGER, body TEXT)"
            )

    def answer_of(self, batch_id: str) -> tuple[str, str] | None:
        """(digest, answer) of a batch already stored."""
        with self.lock:
            row = self.db.execute("SELECT digest, answer FROM batch WHERE batch_id = ?", (batch_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def store(self, batch_id: str, digest: str, answer: dict[str, Any], records: list[dict[str, Any]]) -> bool:
        """Store a batch and its accepted records once; False when another thread stored it first."""
        with self.lock, self.db:
            try:
                self.db.execute(
                    "INSERT INTO batch VALUES (?, ?, ?)", (batch_id, digest, json.dumps(answer, ensure_ascii=False))
                )
            except sqlite3.IntegrityError:
                return False
            self.db.executemany(
                "INSERT INTO record VALUES (?, ?, ?, ?)",
                [(batch_id, r["record_id"], r["version"], json.dumps(r, ensure_ascii=False)) for r in records],
            )
        return True

    def records(self) -> list[dict[str, Any]]:
        """Every accepted record, in arrival order."""
        with self.lock:
            rows = self.db.execute("SELECT body FROM record ORDER BY rowid").fetchall()
        return [json.loads(r[0]) for r in rows]

    def batches(self) -> int:
        """How many distinct batches were stored."""
        with self.lock:
            return int(self.db.execute("SELECT count(*) FROM batch").fetchone()[0])


def check_batch(payload: Any, batch_header: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | str:
    """(accepted records, per-record errors), or why the whole batch is malformed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        return "批次应为含 records 列表的 JSON 对象"
    if payload.get("batch_id") != batch_header:
        return "批次编号与签名头不一致"
    records = payload["records"]
    if not records or len(records) > MAX_RECORDS:
        return f"每批应含 1 至 {MAX_RECORDS} 条记录"
    accepted, rejected = [], []
    for index, record in enumerate(records):
        problems = gbt39046.validate(record)
        if problems:
            rid = record.get("record_id") if isinstance(record, dict) else None
            rejected.append(
                {"index": index, "record_id": rid, "errors": [{"field": f, "message": m} for f, m in problems]}
            )
        else:
            accepted.append(record)
    return accepted, rejected


class Handler(BaseHTTPRequestHandler):
    """POST PATH: one signed batch."""

    server: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s " + format, self.client_address[0], *args)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        if self.path != PATH:
            self._answer(404, {"error": "未知的接口地址"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY:
            self._answer(413 if length > MAX_BODY else 400, {"error": "请求体为空或过大"})
            return
        body = self.rfile.read(length)
        given = {k: self.headers.get(k, "") for k in (signing.TIMESTAMP, signing.BATCH, signing.SIGNATURE)}
        why = signing.verify(self.server.secret, given, body, int(time.time()))
        if why is not None:
            log.warning("refused an upload: %s", why)
            self._answer(401, {"error": "签名无效或已过期", "reason": why})
            return
        self._batch(given[signing.BATCH], body)

    def _batch(self, batch_id: str, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()
        stored = self.server.ledger.answer_of(batch_id)
        if stored is not None:
            self._repeat(batch_id, digest, stored)
            return
        try:
            payload = json.loads(body)
        except ValueError:
            self._answer(400, {"error": "请求体不是有效的 JSON"})
            return
        checked = check_batch(payload, batch_id)
        if isinstance(checked, str):
            self._answer(422, {"batch_id": batch_id, "error": checked})
            return
        accepted, rejected = checked
        answer = {"batch_id": batch_id, "accepted": len(accepted), "rejected": rejected, "duplicate": False}
        if not self.server.ledger.store(batch_id, digest, answer, accepted):
            self._repeat(batch_id, digest, self.server.ledger.answer_of(batch_id) or (digest, "{}"))
            return
        self._answer(200, answer)

    def _repeat(self, batch_id: str, digest: str, stored: tuple[str, str]) -> None:
        if stored[0] != digest:
            self._answer(409, {"batch_id": batch_id, "error": "该批次编号已用于不同内容"})
            return
        self._answer(200, {**json.loads(stored[1]), "duplicate": True})


class Receiver(ThreadingHTTPServer):
    """The HTTPS server with its key and ledger."""

    daemon_threads = True

    def __init__(self, host: str, port: int, cert: Path, key: Path, secret: bytes, ledger: Ledger) -> None:
        super().__init__((host, port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(cert), str(key))
        # The handshake happens on first read, in the request's own thread: a slow client never blocks accept().
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.secret = secret
        self.ledger = ledger


def main(argv: list[str] | None = None) -> None:
    """Run the receiver until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m city.platform.receiver", description="省级好差评平台（本地模拟）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--cert", type=Path, required=True, help="服务器证书（PEM）")
    parser.add_argument("--key", type=Path, required=True, help="服务器私钥（PEM）")
    parser.add_argument("--secret-file", type=Path, required=True, help="与市级共享的签名密钥文件")
    parser.add_argument("--data", default=":memory:", help="保存收到的数据的 SQLite 文件")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = Receiver(
        args.host, args.port, args.cert, args.key, args.secret_file.read_bytes().strip(), Ledger(args.data)
    )
    log.info("receiving on https://%s:%d%s", args.host, args.port, PATH)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
