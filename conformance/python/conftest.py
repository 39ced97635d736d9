"""A fresh behalf server per test module.

Mirrors conformance/lib/server.mjs: each module gets its own temp dir (holding
a new SQLite database) and its own free loopback port; `behalf serve` is
configured only through BEHALF_* variables, and `server.cli(...)` runs the
behalf CLI against the same database. The binary is $BEHALF_BIN, or
../../target/debug/behalf relative to this file.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
BEHALF_BIN = os.environ.get("BEHALF_BIN") or str(HERE / ".." / ".." / "target" / "debug" / "behalf")
ARTIFACTS_DIR = HERE / "artifacts"
READY_TIMEOUT_S = 20.0
READY_POLL_S = 0.1
STOP_TIMEOUT_S = 5.0
CLI_TIMEOUT_S = 60.0


def free_port() -> int:
    """A free port on 127.0.0.1: bind port 0, read it, close."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CliError(AssertionError):
    pass


@dataclass
class Server:
    issuer: str
    base_url: str
    env: dict[str, str]
    dir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Runs `behalf <args>` with the server's environment; returns stdout.

        Raises CliError (an AssertionError) with stderr when it exits non-zero.
        """
        proc = subprocess.run(
            [BEHALF_BIN, *args],
            env=self.env,
            cwd=self.dir,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
        )
        if proc.returncode != 0:
            raise CliError(
                f"behalf {' '.join(args)} failed (exit {proc.returncode})\n"
                f"--- stderr ---\n{proc.stderr}\n--- stdout ---\n{proc.stdout}"
            )
        return proc.stdout

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace") if self.log_path else ""
        except OSError:
            return ""

    def stop(self, name: str | None = None) -> None:
        if self._stopped:
            return
        self._stopped = True
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if name:
            try:
                ARTIFACTS_DIR.mkdir(exist_ok=True)
                rc = proc.returncode if proc is not None else None
                (ARTIFACTS_DIR / f"{name}.server.log").write_text(f"# exit: {rc}\n{self.log()}")
            except OSError:
                pass  # logs are a convenience only
        shutil.rmtree(self.dir, ignore_errors=True)


def start_server(name: str | None = None, extra_env: dict[str, str] | None = None) -> Server:
    """Starts `behalf serve` in a fresh temp dir and waits for GET /readyz → 200."""
    tmp = Path(tempfile.mkdtemp(prefix="behalf-conformance-py-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BEHALF_DATABASE_URL": f"sqlite://{tmp}/behalf.db",
        "BEHALF_LISTEN": f"127.0.0.1:{port}",
        "BEHALF_ISSUER": base_url,
        "BEHALF_LOG": "warn",
        **(extra_env or {}),
    }
    server = Server(issuer=base_url, base_url=base_url, env=env, dir=tmp, log_path=tmp / "server.log")
    try:
        with open(server.log_path, "wb") as log:
            server.process = subprocess.Popen(
                [BEHALF_BIN, "serve"],
                env=env,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    except OSError as exc:
        server.stop()
        raise RuntimeError(f"could not spawn {BEHALF_BIN}: {exc}") from exc
    # Never leave a server behind if the test process ends abruptly.
    atexit.register(server.stop)

    deadline = time.monotonic() + READY_TIMEOUT_S
    problem = "no answer yet"
    while True:
        if server.process.poll() is not None:
            log = server.log()
            server.stop(name)
            raise RuntimeError(f"behalf serve exited early (exit {server.process.returncode})\n{log}")
        try:
            res = requests.get(f"{base_url}/readyz", timeout=1)
            if res.status_code == 200:
                return server
            problem = f"GET /readyz answered {res.status_code}"
        except requests.RequestException as exc:
            problem = f"GET /readyz failed: {exc.__class__.__name__}"
        if time.monotonic() > deadline:
            log = server.log()
            server.stop(name)
            raise RuntimeError(f"behalf serve was not ready after {READY_TIMEOUT_S:.0f}s ({problem})\n{log}")
        time.sleep(READY_POLL_S)


@pytest.fixture(scope="module")
def server(request):
    """A fresh behalf server for the whole test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    srv = start_server(name)
    yield srv
    srv.stop(name)


@pytest.fixture(scope="module")
def cli(server):
    """`cli(*args, stdin=None)`: the behalf CLI against the module's server; returns stdout."""
    return server.cli
