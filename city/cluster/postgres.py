"""A local PostgreSQL server in a folder of its own (Debian's postgresql package), for the demo city and the
benches: initdb once, pg_ctl start/stop on a loopback port; runs as `postgres` when started as root."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

INSTALL_HINT = "未找到 PostgreSQL 服务器程序（initdb、pg_ctl）：请运行 make setup（安装 Debian 的 postgresql 软件包）"


class PostgresError(RuntimeError):
    """The server could not be created or started; the message says why."""


def bindir() -> Path:
    """Where initdb and pg_ctl are (the newest installed major version)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresError(INSTALL_HINT)


class LocalPostgres:
    """A PostgreSQL cluster in `root` on `port` with a login role `hallq` that may create databases."""

    def __init__(self, root: Path, port: int, fsync: bool = True) -> None:
        self.bindir = bindir()
        self.root = root.resolve()
        self.data = self.root / "data"
        self.port = port
        self.fsync = fsync
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True, timeout: float | None = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise PostgresError(f"{' '.join(cmd)} 失败：\n{result.stdout}\n{result.stderr}")
        return result

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://hallq@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        """Create the cluster if it is not there, start it; the URL of the `postgres` database."""
        self.root.mkdir(parents=True, exist_ok=True)
        fresh = not (self.data / "PG_VERSION").exists()
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        if fresh:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        if fresh:
            self.psql("postgres", "CREATE ROLE hallq LOGIN CREATEDB")
        return self.url()

    def psql(self, database: str, sql: str, timeout: float | None = 120) -> str:
        """Run SQL as the superuser; its output."""
        return self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
            "-v", "ON_ERROR_STOP=1", "-At", "-c", sql, timeout=timeout,
        ).stdout  # fmt: skip

    def create_database(self, name: str) -> str:
        """A new database owned by `hallq` (dropped first when it exists); its URL."""
        self.psql("postgres", f'DROP DATABASE IF EXISTS "{name}"')
        self.psql("postgres", f'CREATE DATABASE "{name}" OWNER hallq')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown); the data folder stays."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
