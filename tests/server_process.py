"""Start the test host (``tests/wsgi_host.py``) in a separate server process and stop it again.

Shared by ``tests/test_two_processes.py`` and ``bench/hop_latency.py``. Readiness is an HTTP
poll of ``/`` with a deadline; the server's output goes to a log file that is quoted when the
process fails to start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """One server process of the test host: ``kind`` is ``"gevent"`` (gunicorn -k gevent),
    ``"werkzeug"`` (threaded dev server) or any WSGI ``module:app`` under gunicorn gevent."""

    def __init__(
        self,
        kind: str,
        *,
        database_url: str,
        redis_url: str,
        redis_prefix: str,
        app: str = "tests.wsgi_host:app",
        extra_env: dict[str, str] | None = None,
        port: int | None = None,
        worker_connections: int = 2000,
    ) -> None:
        self.kind = kind
        # A given port: a restarted server takes the place of one that was killed.
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "HOSTAPP_DATABASE_URL": database_url,
            "HOSTAPP_REDIS_URL": redis_url,
            "HOSTAPP_REDIS_PREFIX": redis_prefix,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        if kind == "werkzeug":
            module = app.split(":", 1)[0]
            cmd = [sys.executable, "-m", module, str(self.port)]
        else:
            cmd = [
                str(BIN / "gunicorn"),
                "-k", "gevent",
                "-w", "1",
                "--worker-connections", str(worker_connections),
                "--graceful-timeout", "2",
                # gunicorn 27 otherwise puts a control socket at one fixed path per user,
                # which two servers started side by side would fight over.
                "--no-control-socket",
                "-b", f"127.0.0.1:{self.port}",
                app,
            ]  # fmt: skip
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the process's life
            prefix=f"gincore-{kind}-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def ws_url(self, path: str) -> str:
        return self.url.replace("http", "ws", 1) + path

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 30.0, path: str = "/") -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} server exited with {self.proc.returncode}:\n{self.output()}"
                )
            try:
                if requests.get(self.url + path, timeout=1).status_code < 500:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} server not ready in {timeout}s:\n{self.output()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            # The process group: gunicorn's worker goes too, even if the arbiter is stuck.
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
            except ProcessLookupError:
                pass
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
