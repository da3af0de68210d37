"""A throwaway PostgreSQL cluster for benchmarks with durable settings: fsync, synchronous_commit and
full_page_writes on (the test cluster runs with fsync=off, which flatters every commit)."""

from __future__ import annotations

from tests.pgserver import TempPostgres

DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"


class DurablePostgres(TempPostgres):
    """As tests.pgserver.TempPostgres, but every commit waits for its WAL to reach the disk."""

    def start(self) -> str:
        """Create and start the cluster; returns a SQLAlchemy URL of its `postgres` database."""
        import shutil

        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 {DURABLE}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                  "-v", "ON_ERROR_STOP=1", "-c", "CREATE ROLE hallq LOGIN CREATEDB")  # fmt: skip
        return f"postgresql+psycopg://hallq@127.0.0.1:{self.port}/postgres"


def settings_line(url: str) -> str:
    """What the server says about durability (printed beside every PostgreSQL figure)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            values = [conn.execute(text(f"SHOW {name}")).scalar_one() for name in ("fsync", "synchronous_commit")]
    finally:
        engine.dispose()
    return f"fsync={values[0]} synchronous_commit={values[1]}"
