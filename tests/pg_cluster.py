"""A private PostgreSQL server that a test may stop and start: ``initdb`` + ``pg_ctl``.

The shared test server (``storage_backends``) must never be restarted under
other tests, so restart tests start their own from the installed PostgreSQL
binaries, in a temporary directory, on 127.0.0.1 and a free port.  As root
(CI, ``pg_virtualenv`` runs) ``initdb`` refuses to run, so the commands run as
the ``postgres`` user that Debian's package creates.  Without the binaries
the test is skipped, or fails where ``BLACKJACK_REQUIRE_POSTGRESQL`` is set.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["Cluster"]


def _bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return os.path.dirname(found[-1])
    pg_ctl = shutil.which("pg_ctl")
    return os.path.dirname(pg_ctl) if pg_ctl else None


class Cluster:
    """One throwaway PostgreSQL server; ``url`` reaches its ``postgres`` database."""

    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            why = "no PostgreSQL binaries (initdb, pg_ctl) are installed"
            if os.environ.get("BLACKJACK_REQUIRE_POSTGRESQL") or os.environ.get("BLACKJACK_CI"):
                pytest.fail(why)
            pytest.skip(why)
        self._bindir = bindir
        self._root = os.geteuid() == 0
        # Not pytest's tmp_path: the postgres user cannot enter root's 0700
        # directories, and the socket's path must stay under 107 bytes.
        self.directory = directory = Path(tempfile.mkdtemp(prefix="bj-pg-"))
        self.data = directory / "data"
        if self._root:
            shutil.chown(directory, "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")
        self.start()

    def _run(self, program: str, *args: str) -> None:
        command = [os.path.join(self._bindir, program), *args]
        if self._root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
                  "start")

    def stop(self) -> None:
        """Stop it as an operator restarting it would (fast: sessions are cut)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        """Stop it if running and remove its files."""
        try:
            self.stop()
        except RuntimeError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)
