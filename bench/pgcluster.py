"""A private PostgreSQL cluster for fault benchmarks: initdb into a temporary folder, its own port, run as the
postgres user, restarted and removed by the bench alone (the shared server on 5432 is never touched).

    with PrivateCluster() as cluster:        # initdb + start (about 3 s)
        url = cluster.database("bench_restart")
        cluster.restart()                    # pg_ctl restart -m fast: open transactions abort, commits stay
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"


def _as_postgres(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    # The cluster belongs to the postgres user: PostgreSQL refuses to run as root.
    prefix = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], check=check, capture_output=True, text=True)


class PrivateCluster:
    def __init__(self, port: int | None = None):
        from serve import free_port

        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="bench_pg_"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"

    def __enter__(self) -> "PrivateCluster":
        shutil.chown(self.folder, USER, USER)
        _as_postgres(str(BIN / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                     "--locale=C.UTF-8")
        self.start()
        return self

    def _options(self) -> str:
        # fsync and synchronous_commit stay on (the defaults): what a commit promises is what is measured.
        return (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c max_connections=100 "
                f"-c shared_buffers=64MB")

    def start(self) -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                     "-w", "start")

    def restart(self) -> None:
        """Stop fast (every connection ends, open transactions roll back) and start again; returns when up."""
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                     "-m", "fast", "-w", "restart")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self, name: str) -> str:
        _as_postgres(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.url(name)

    def __exit__(self, *exc) -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
