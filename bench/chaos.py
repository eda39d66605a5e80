"""The chaos suite: real processes, real faults, then a count of what was lost or doubled.

    .venv/bin/python -m bench.chaos                 # 50 visitors, 3 managers, >= 5,000 messages
    .venv/bin/python -m bench.chaos --visitors 10 --messages 10 --seed 7

What runs (all on loopback, all started and stopped here):

* two web processes of the test host (``tests/wsgi_host.py``) under ``gunicorn -k gevent``;
* one RQ worker, ``flask chats worker`` (fork per job, scheduler included, as documented);
* a private ``redis-server`` on a port of its own (AOF on), never the shared one;
* a scratch PostgreSQL database next to ``CHATS_BENCH_DATABASE_URL``;
* the fake Telegram Bot API of ``tests/channels/fakes.py`` and an aiosmtpd SMTP sink.

Clients speak the real protocols: widget visitors send over HTTP with a client UUID, retried with
the same UUID (on the other server when theirs is gone) until answered, and keep a widget
socket that resyncs from its floor after every reconnect; managers reply through the console API
the same way and follow their conversations on a console socket; Telegram customers are webhook
deliveries repeated until acknowledged, as Telegram does.

Faults, at random times during the load: socket drops on the client side and on the server
side (``ss -K``), ``kill -9`` of one web process (restarted on its port), a Redis restart,
``kill -9`` of the worker while it has jobs running (restarted), and ``pg_terminate_backend`` of
every app connection. Afterwards every client syncs once more and the run prints: messages
lost, duplicated, out of order per conversation, Telegram sends delivered more than once or
never (counted at the fake, keyed by our message id), notification emails sent twice, and the
time to recover after each fault. ``tests/test_chaos.py`` runs a small plan and asserts the zeros.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import email
import hashlib
import itertools
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from websockets.sync.client import ClientConnection, connect

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.channels.fakes import TELEGRAM_TOKEN, FakeTelegram  # noqa: E402
from tests.channels.payloads import TEXT  # noqa: E402
from tests.server_process import ServerProcess, free_port  # noqa: E402

ADMIN_DB_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
SHOP = "https://shop.example.com"
SMTP_USER, SMTP_PASSWORD = "chaos", "chaos-pass"
#: Failed answers clients retried, by status or exception (printed with the report).
REFUSALS: Counter[str] = Counter()
FAULTS = ("drop_client", "drop_server", "kill_web", "redis_restart", "kill_worker", "pg_reset")


@dataclass
class Plan:
    visitors: int = 50
    managers: int = 3
    telegram_chats: int = 10
    #: Messages each visitor (and each Telegram customer) sends; managers send as many per chat.
    messages: int = 50
    #: How long the load should take (senders pause between messages to spread over it).
    duration: float = 120.0
    #: Each fault is injected this many times, at random moments of the load.
    rounds: int = 2
    seed: int = 1
    #: Seconds a customer message stays unread before the managers get an email.
    email_timeout: float = 3.0
    settle_timeout: float = 150.0
    #: A fault injected first, early in the load (the test puts the slowest to recover there).
    first: str | None = None
    #: Which faults to inject (all by default).
    faults: tuple[str, ...] = FAULTS
    log: Callable[[str], None] = field(default=lambda line: print(line, flush=True))


# -- infrastructure ---------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of the suite's own, restartable on its port; AOF on, as the docs ask."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="chaos-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        cmd = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
            "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def restart(self) -> None:
        """A restart as an operator does it (SIGTERM: Redis writes its AOF and exits)."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(20)
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class Sink:
    """aiosmtpd handler: every email, with a digest of what a reader would see."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.emails: list[tuple[str, str]] = []  # (recipients, digest)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        content = f"{msg['Subject']}\n{body.get_content() if body is not None else ''}"
        digest = hashlib.sha256(content.encode()).hexdigest()
        with self.lock:
            self.emails.append((",".join(sorted(envelope.rcpt_tos)), digest))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        from aiosmtpd.smtp import AuthResult

        ok = (data.login.decode(), data.password.decode()) == (SMTP_USER, SMTP_PASSWORD)
        return AuthResult(success=ok, handled=ok)


@contextmanager
def smtp_server() -> Iterator[tuple[Sink, int]]:
    import warnings

    from aiosmtpd.controller import Controller

    sink = Sink()
    port = free_port()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        controller = Controller(
            sink, hostname="127.0.0.1", port=port, authenticator=sink.authenticate,
            auth_required=True, auth_require_tls=False,
        )  # fmt: skip
        controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@contextmanager
def scratch_database() -> Iterator[str]:
    admin = create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_chaos_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_DB_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Worker:
    """``flask chats worker`` (fork per job, with the scheduler), restartable."""

    def __init__(self, env: dict[str, str], redis_url: str, queue: str) -> None:
        self.env = env
        self.redis_url = redis_url
        self.queue = queue
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open for the run
            prefix="chaos-worker-", suffix=".log", delete=False
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "flask", "--app", "tests.worker_host:app", "chats", "worker",
            "--maintenance-interval", "10",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> None:
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited:\n{Path(self.log.name).read_text()[-3000:]}")
            with contextlib.suppress(redis.RedisError):
                if client.exists(f"rq:scheduler-lock:{self.queue}"):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready:\n{Path(self.log.name).read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9 of the worker and its work-horse (a machine that dies takes both)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class Web:
    """The two gunicorn gevent processes; a killed one comes back on its port."""

    def __init__(self, common: dict[str, Any]) -> None:
        self.common = common
        self.servers = [ServerProcess("gevent", **common), ServerProcess("gevent", **common)]
        self.urls = [s.url for s in self.servers]
        try:
            for s in self.servers:
                s.wait_ready(120)  # the box is shared: a first start may be slow
        except BaseException:
            self.stop()  # not yet on the caller's exit stack: never leave them running
            raise

    def kill(self, index: int) -> None:
        proc = self.servers[index].proc
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def restart(self, index: int) -> None:
        old = self.servers[index]
        old.stop()
        new = ServerProcess("gevent", port=old.port, **self.common)
        self.servers[index] = new
        new.wait_ready(60)

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


# -- what every client records --------------------------------------------------------------


@dataclass
class Sent:
    key: str  # the unique body marker
    conversation_id: int
    sender: str  # "visitor:3", "manager:1", "telegram:2"
    index: int  # the sender's own order within the conversation
    started: float
    message_id: int | None = None
    confirmed: float | None = None


@dataclass
class Seen:
    seq: int
    message_id: int
    body: str
    at: float


class Ledger:
    """Everything sent and everything received, from all threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, Sent] = {}
        #: receiver -> conversation -> seq -> Seen (message.created only)
        self.seen: dict[str, dict[int, dict[int, Seen]]] = defaultdict(lambda: defaultdict(dict))
        self.created_twice = 0  # one message id under two sequence numbers at one receiver
        self.unconfirmed: list[str] = []
        #: Answers that were not a success, by status (or exception name): what clients retried.
        self.refusals: Counter[str] = Counter()

    def add_sent(self, sent: Sent) -> None:
        with self.lock:
            self.sent[sent.key] = sent

    def add_seen(self, receiver: str, conv_id: int, item: Seen) -> None:
        with self.lock:
            per_conv = self.seen[receiver][conv_id]
            if item.seq in per_conv:
                return
            if any(s.message_id == item.message_id for s in per_conv.values()):
                self.created_twice += 1
            per_conv[item.seq] = item


# -- clients ------------------------------------------------------------------------------------


class Backoff:
    def __init__(self) -> None:
        self.delay = 0.1

    def wait(self) -> None:
        time.sleep(self.delay * (0.5 + random.random()))
        self.delay = min(self.delay * 2, 2.0)

    def reset(self) -> None:
        self.delay = 0.1


def post_until_answered(
    urls: list[str],
    pick: list[int],
    session: requests.Session,
    path: str,
    body: dict[str, Any],
    headers: Callable[[str], dict[str, str]],
    stop: threading.Event,
    deadline: float,
) -> requests.Response | None:
    """POST the same body (same client UUID) until a 2xx; switch servers when one is gone."""
    backoff = Backoff()
    while time.monotonic() < deadline:
        url = urls[pick[0]]
        try:
            r = session.post(url + path, json=body, headers=headers(url), timeout=10)
            if r.status_code < 300:
                return r
            REFUSALS[str(r.status_code)] += 1
            if r.status_code < 500 and r.status_code != 429:
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
        except requests.RequestException as exc:
            REFUSALS[type(exc).__name__] += 1
            pick[0] = 1 - pick[0]
        backoff.wait()
    return None


class Socket:
    """A client socket that keeps itself connected and speaks the sync protocol.

    Per conversation it keeps a floor (highest contiguous sequence number) and the numbers seen
    above it; a gap or a ``resync`` asks for everything after the floor, as the widget does.
    """

    def __init__(
        self,
        name: str,
        urls: list[str],
        pick: list[int],
        path: str,
        ledger: Ledger,
        stop: threading.Event,
        *,
        auth: Callable[[], dict[str, Any] | None],
        headers: Callable[[str], dict[str, str]],
    ) -> None:
        self.name = name
        self.urls = urls
        self.pick = pick
        self.path = path
        self.ledger = ledger
        self.stop = stop
        self.auth = auth
        self.headers = headers
        self.lock = threading.Lock()
        self.floors: dict[int, int] = {}
        self.above: dict[int, set[int]] = defaultdict(set)
        self.ws: ClientConnection | None = None
        self.synced = threading.Condition()
        self.sync_rounds: dict[int, int] = defaultdict(int)
        self.connects = 0
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def follow(self, conv_id: int) -> None:
        with self.lock:
            self.floors.setdefault(conv_id, 0)
        self._sync(conv_id)

    def _send(self, op: dict[str, Any]) -> None:
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.send(json.dumps(op))

    def _sync(self, conv_id: int) -> None:
        with self.lock:
            after = self.floors.get(conv_id, 0)
        op: dict[str, Any] = {"op": "sync", "after": after}
        if self.path.startswith("/chats/console"):
            op["conversation_id"] = conv_id
        self._send(op)

    def sync_all(self) -> None:
        with self.lock:
            convs = list(self.floors)
        for c in convs:
            self._sync(c)

    def abort(self) -> None:
        """A network drop seen from this side: the TCP connection just goes."""
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(OSError):
                ws.socket.shutdown(socket.SHUT_RDWR)

    def _run(self) -> None:
        backoff = Backoff()
        while not self.stop.is_set():
            url = self.urls[self.pick[0]]
            try:
                ws = connect(
                    url.replace("http", "ws", 1) + self.path,
                    additional_headers=self.headers(url),
                    open_timeout=5,
                    close_timeout=0.5,
                )
            except Exception:
                self.pick[0] = 1 - self.pick[0]
                backoff.wait()
                continue
            try:
                first = self.auth()
                if first is not None:
                    ws.send(json.dumps(first))
                self.ws = ws
                self.connects += 1
                self._read(ws, backoff)
            except Exception:
                pass
            finally:
                self.ws = None
                with contextlib.suppress(Exception):
                    ws.close()
            if not self.stop.is_set():
                backoff.wait()

    def _read(self, ws: ClientConnection, backoff: Backoff) -> None:
        last_beat = time.monotonic()
        beats = 0
        while not self.stop.is_set():
            try:
                raw = ws.recv(timeout=1.0)
            except TimeoutError:
                raw = None
            now = time.monotonic()
            if now - last_beat > 5.0:
                # The widget's beat: a ping, and every fourth time a sync (its safety net).
                last_beat, beats = now, beats + 1
                if beats % 4:
                    self._send({"op": "ping"})
                else:
                    self.sync_all()
            if raw is None:
                continue
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "hello":
                backoff.reset()
                self.sync_all()
            elif kind == "event":
                self._event(frame)
            elif kind == "synced":
                self._synced(frame)
            elif kind == "resync":
                self.sync_all()
            elif kind == "error" and not frame.get("op"):
                raise RuntimeError(frame.get("message"))

    def _conv_of(self, frame: dict[str, Any]) -> int | None:
        conv = frame.get("conversation_id")
        if conv is None:
            with self.lock:
                if len(self.floors) == 1:
                    return next(iter(self.floors))
            return None
        return int(conv)

    def _event(self, frame: dict[str, Any]) -> None:
        conv = self._conv_of(frame)
        if conv is None:
            return
        seq = int(frame["seq"])
        with self.lock:
            if conv not in self.floors:
                return
            floor = self.floors[conv]
            if seq <= floor or seq in self.above[conv]:
                return
            self.above[conv].add(seq)
            while floor + 1 in self.above[conv]:
                floor += 1
                self.above[conv].discard(floor)
            self.floors[conv] = floor
            gap = bool(self.above[conv])
        if frame.get("event") == "message.created":
            msg = frame["data"]["message"]
            self.ledger.add_seen(
                self.name, conv, Seen(seq, int(msg["id"]), msg.get("body") or "", time.monotonic())
            )
        if gap:
            self._sync(conv)

    def _synced(self, frame: dict[str, Any]) -> None:
        conv = self._conv_of(frame)
        if conv is None:
            return
        with self.lock:
            upto = int(frame.get("upto") or 0)
            floor = max(self.floors.get(conv, 0), upto)
            above = self.above[conv]
            while floor + 1 in above or any(s <= floor for s in above):
                above.difference_update({s for s in above if s <= floor})
                if floor + 1 in above:
                    floor += 1
            self.floors[conv] = floor
        if frame.get("more"):
            self._sync(conv)
        with self.synced:
            self.sync_rounds[conv] += 1
            self.synced.notify_all()

    def final_sync(self, timeout: float = 30.0) -> bool:
        """Sync every conversation once more and wait for each answer."""
        deadline = time.monotonic() + timeout
        with self.lock:
            convs = list(self.floors)
        while time.monotonic() < deadline:
            with self.synced:
                before = {c: self.sync_rounds[c] for c in convs}
            if self.ws is None:
                time.sleep(0.1)
                continue
            self.sync_all()
            with self.synced:
                done = self.synced.wait_for(
                    lambda before=before: all(self.sync_rounds[c] > before[c] for c in convs), 5.0
                )
            if done:
                return True
        return False


class Visitor:
    def __init__(self, n: int, urls: list[str], key: str, ledger: Ledger, stop: threading.Event):
        self.n = n
        self.name = f"visitor:{n}"
        self.urls = urls
        self.pick = [n % 2]
        self.key = key
        self.ledger = ledger
        self.stop = stop
        self.http = requests.Session()
        self.token = ""
        self.conv_id = 0
        self.socket: Socket | None = None

    def headers(self, url: str) -> dict[str, str]:
        h = {"Origin": SHOP}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def open(self) -> None:
        body = {"key": self.key, "context": {"url": f"{SHOP}/p/{self.n}", "language": "en"}}
        r = post_until_answered(
            self.urls, self.pick, self.http, "/chats/widget/api/conversations", body,
            self.headers, self.stop, time.monotonic() + 60,
        )  # fmt: skip
        assert r is not None and r.status_code == 201, r
        self.token, self.conv_id = r.json()["token"], int(r.json()["conversation_id"])
        self.socket = Socket(
            self.name, self.urls, self.pick, "/chats/widget/ws", self.ledger, self.stop,
            auth=lambda: {"op": "auth", "token": self.token},
            headers=lambda url: {"Origin": SHOP},
        )  # fmt: skip
        self.socket.floors[self.conv_id] = 0
        self.socket.thread.start()

    def send(self, key: str, index: int, deadline: float) -> None:
        sent = Sent(key, self.conv_id, self.name, index, time.monotonic())
        self.ledger.add_sent(sent)
        body = {"body": key, "client_id": str(uuid.uuid4())}
        r = post_until_answered(
            self.urls, self.pick, self.http, "/chats/widget/api/messages", body, self.headers,
            self.stop, deadline,
        )  # fmt: skip
        if r is None:
            self.ledger.unconfirmed.append(key)
            return
        sent.message_id, sent.confirmed = int(r.json()["message"]["id"]), time.monotonic()


class Manager:
    def __init__(
        self, n: int, staff_id: str, urls: list[str], ledger: Ledger, stop: threading.Event
    ):
        self.n = n
        self.name = f"manager:{n}"
        self.urls = urls
        self.pick = [n % 2]
        self.staff_id = staff_id
        self.ledger = ledger
        self.stop = stop
        self.http = requests.Session()
        r = self.http.get(f"{urls[0]}/test-login/{staff_id}", allow_redirects=False, timeout=10)
        assert r.status_code == 302, r.text
        self.csrf = self.http.get(f"{urls[0]}/chats/console/api/me", timeout=10).json()[
            "csrf_token"
        ]
        self.socket = Socket(
            self.name, urls, self.pick, "/chats/console/ws", ledger, stop,
            auth=lambda: None, headers=self.ws_headers,
        )  # fmt: skip
        self.socket.thread.start()

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    def ws_headers(self, url: str) -> dict[str, str]:
        return {"Origin": url, "Cookie": self.cookie()}

    def api_headers(self, url: str) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, "Origin": url}

    def take(self, conv_id: int) -> None:
        self.socket.follow(conv_id)
        r = post_until_answered(
            self.urls, self.pick, self.http, f"/chats/console/api/conversations/{conv_id}/join",
            {}, self.api_headers, self.stop, time.monotonic() + 60,
        )  # fmt: skip
        assert r is not None, f"could not join {conv_id}"

    def send(self, conv_id: int, key: str, index: int, deadline: float, session: Any) -> None:
        sent = Sent(key, conv_id, f"{self.name}@{conv_id}", index, time.monotonic())
        self.ledger.add_sent(sent)
        body = {"body": key, "client_id": str(uuid.uuid4()), "note": False}
        r = post_until_answered(
            self.urls, self.pick, session, f"/chats/console/api/conversations/{conv_id}/messages",
            body, self.api_headers, self.stop, deadline,
        )  # fmt: skip
        if r is None:
            self.ledger.unconfirmed.append(key)
            return
        sent.message_id, sent.confirmed = int(r.json()["message"]["id"]), time.monotonic()


class TelegramCustomer:
    """A Telegram user whose updates reach us as webhook POSTs, repeated until acknowledged."""

    def __init__(self, n: int, urls: list[str], key: str, secret: str, ledger: Ledger):
        self.n = n
        self.name = f"telegram:{n}"
        self.urls = urls
        self.pick = [n % 2]
        self.path = f"/chats/webhooks/{key}"
        self.secret = secret
        self.ledger = ledger
        self.chat_id = 700000000 + n
        self.message_id = 0
        self.http = requests.Session()
        self.conv_id = 0

    def update(self, body: str) -> dict[str, Any]:
        self.message_id += 1
        data = copy.deepcopy(TEXT)
        data["update_id"] = self.chat_id * 1000 + self.message_id
        msg = data["message"]
        msg["message_id"] = self.message_id
        msg["from"]["id"] = msg["chat"]["id"] = self.chat_id
        msg["from"]["first_name"] = msg["chat"]["first_name"] = f"Customer{self.n}"
        msg["date"] = int(time.time())
        msg["text"] = body
        return data

    def send(self, key: str, index: int, deadline: float, stop: threading.Event) -> bool:
        sent = Sent(key, self.conv_id, self.name, index, time.monotonic())
        self.ledger.add_sent(sent)
        payload = json.dumps(self.update(key)).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": self.secret,
        }
        backoff = Backoff()
        while time.monotonic() < deadline:
            try:
                r = self.http.post(
                    self.urls[self.pick[0]] + self.path, data=payload, headers=headers, timeout=10
                )
                if r.status_code == 200:
                    sent.confirmed = time.monotonic()
                    return True
            except requests.RequestException:
                self.pick[0] = 1 - self.pick[0]
            backoff.wait()
        self.ledger.unconfirmed.append(key)
        return False


# -- the run -----------------------------------------------------------------------------------


@dataclass
class FaultRecord:
    kind: str
    at: float
    detail: str = ""
    recovered: float | None = None


@dataclass
class Report:
    sent: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    unconfirmed: int = 0
    telegram_twice: int = 0
    telegram_never: int = 0
    emails: int = 0
    emails_twice: int = 0
    faults: list[FaultRecord] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def zeros(self) -> dict[str, int]:
        return {
            "lost": self.lost,
            "duplicated": self.duplicated,
            "out_of_order": self.out_of_order,
            "unconfirmed": self.unconfirmed,
            "telegram_twice": self.telegram_twice,
            "telegram_never": self.telegram_never,
            "emails_twice": self.emails_twice,
        }


def seed(
    database_url: str, redis_url: str, prefix: str, env: dict[str, str], plan: Plan, smtp_port: int
):
    """Tables, staff, a widget source and a Telegram source, the mailbox and email timeouts."""
    from gincore_chats.services import sources
    from gincore_chats.services.channels import sources as channel_sources
    from gincore_chats.services.channels.sources import read_credentials
    from gincore_chats.services.notifications import mailbox, unread_alerts
    from gincore_chats.services.unit_of_work import unit_of_work
    from tests import hostapp

    config = {k: v for k, v in env.items() if k.startswith("CHATS_")}
    app = hostapp.create_app(
        SQLALCHEMY_DATABASE_URI=database_url, CHATS_REDIS_URL=redis_url, CHATS_REDIS_PREFIX=prefix,
        **config,
    )  # fmt: skip
    hostapp.create_tables(app)
    with app.app_context():
        staff = []
        for i in range(plan.managers):
            user = hostapp.Staff(
                full_name=f"Manager {i}", mail=f"m{i}@shop.example",
                perms="chats.view,chats.reply,customers.view,customers.edit",
            )  # fmt: skip
            hostapp.db.session.add(user)
            staff.append(user)
        hostapp.db.session.commit()
        ids = [str(u.id) for u in staff]
        state = app.extensions["gincore_chats"]
        with unit_of_work(state.session):
            widget = sources.do_create_widget_source(state, "Chaos shop", ["shop.example.com"])
            sources.do_set_employees(state, widget, ids)
            bot = channel_sources.do_create_channel_source(
                state, "telegram", "Chaos bot", {"bot_token": TELEGRAM_TOKEN}
            )
            sources.do_set_employees(state, bot, ids)
            mailbox.do_save(
                state,
                {
                    "active": True, "host": "127.0.0.1", "port": str(smtp_port),
                    "security": "none", "username": SMTP_USER, "password": SMTP_PASSWORD,
                    "from_address": "support@shop.example", "from_name": "Chaos Shop",
                },
            )  # fmt: skip
            for source in (widget, bot):
                unread_alerts.do_set_timeouts(
                    state, source, employee_seconds=plan.email_timeout, customer_seconds=None
                )
        secret = read_credentials(state, bot)["webhook_secret"]
        keys = widget.public_key, bot.public_key
        hostapp.db.session.remove()
        hostapp.db.engine.dispose()
    return ids, keys, secret


class Chaos:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.ledger = Ledger()
        self.stop = threading.Event()
        self.report = Report()
        self.log = plan.log
        self.restarting: threading.Thread | None = None

    # -- faults --------------------------------------------------------------------------------

    def inject(self, kind: str) -> FaultRecord:
        rec = FaultRecord(kind, time.monotonic())
        if kind == "drop_client":
            clients = [v.socket for v in self.visitors if v.socket] + [
                m.socket for m in self.managers
            ]
            chosen = self.rng.sample(clients, max(1, len(clients) // 3))
            for s in chosen:
                s.abort()
            rec.detail = f"{len(chosen)} client sockets"
        elif kind == "drop_server":
            # Both servers: clients that failed over all sit on one of them.
            killed = 0
            for server in self.web.servers:
                out = subprocess.run(
                    ["ss", "-K", "-t", "state", "established", f"( sport = :{server.port} )"],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                killed += max(0, len(out.stdout.splitlines()) - 1)
            rec.detail = f"{killed} server-side sockets"
        elif kind == "kill_web":
            if self.restarting is not None:
                self.restarting.join()  # never both down: one restart at a time
            i = self.rng.randrange(2)
            self.web.kill(i)
            rec.detail = f"server {i}"
            # Restarted in the background (a boot takes seconds): later faults keep their time.
            self.restarting = threading.Thread(target=self._restart_web, args=(i,), daemon=True)
            self.restarting.start()
        elif kind == "redis_restart":
            self.redis.restart()
        elif kind == "kill_worker":
            busy = self._wait_busy_worker()
            self.worker.kill()
            time.sleep(0.5)
            self.worker.start()
            rec.detail = f"{busy} jobs running"
        elif kind == "pg_reset":
            with self.admin.connect() as conn:
                n = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :db AND pid <> pg_backend_pid()"
                    ),
                    {"db": self.db_name},
                ).scalar()
            rec.detail = f"{n} connections"
        self.log(f"  fault {kind} ({rec.detail}) at +{rec.at - self.t0:.1f}s")
        return rec

    def _restart_web(self, i: int) -> None:
        time.sleep(1.0)
        self.web.restart(i)
        self.log(f"  server {i} back at +{time.monotonic() - self.t0:.1f}s")

    def _wait_busy_worker(self) -> int:
        from rq.registry import StartedJobRegistry

        client = redis.Redis.from_url(self.redis.url)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                n = StartedJobRegistry(self.queue_name, connection=client).count
                if n:
                    return int(n)
            time.sleep(0.01)
        return 0

    def faults(self) -> None:
        kinds = [k for k in self.plan.faults for _ in range(self.plan.rounds)]
        self.rng.shuffle(kinds)
        span = self.plan.duration * 0.8
        times = sorted(self.rng.uniform(span * 0.1, span) for _ in kinds)
        if self.plan.first:
            kinds.remove(self.plan.first)
            kinds.insert(0, self.plan.first)
            times[0] = min(times[0], span * 0.1)
        for kind, at in zip(kinds, times, strict=True):
            while time.monotonic() - self.t0 < at and not self.stop.is_set():
                time.sleep(0.05)
            if self.stop.is_set():
                return
            try:
                self.report.faults.append(self.inject(kind))
            except Exception as exc:
                self.log(f"  fault {kind} failed: {exc!r}")
                raise

    # -- load ------------------------------------------------------------------------------------

    def pause(self) -> None:
        mean = self.plan.duration / max(1, self.plan.messages)
        time.sleep(self.rng.uniform(0, 2 * mean) * 0.9)

    def visitor_load(self, v: Visitor, deadline: float) -> None:
        for i in range(self.plan.messages):
            self.pause()
            v.send(f"v{v.n}-{i}-{uuid.uuid4().hex[:8]}", i, deadline)

    def manager_load(self, m: Manager, conv_id: int, deadline: float) -> None:
        session = requests.Session()
        session.cookies.update(m.http.cookies)
        for i in range(self.plan.messages):
            self.pause()
            m.send(conv_id, f"m{m.n}-c{conv_id}-{i}-{uuid.uuid4().hex[:8]}", i, deadline, session)

    def telegram_load(self, t: TelegramCustomer, deadline: float) -> None:
        for i in range(1, self.plan.messages + 1):
            self.pause()
            t.send(f"t{t.n}-{i}-{uuid.uuid4().hex[:8]}", i, deadline, self.stop)

    # -- main ------------------------------------------------------------------------------------

    def run(self) -> Report:
        started = time.monotonic()
        with ExitStack() as stack:
            self._start(stack)
            self._load()
            self._settle()
            self._check()
            self.stop.set()
        self.report.seconds = time.monotonic() - started
        return self.report

    def _start(self, stack: ExitStack) -> None:
        plan = self.plan
        self.redis = PrivateRedis()
        stack.callback(self.redis.stop)
        self.fake = FakeTelegram()
        stack.callback(self.fake.stop)
        sink, smtp_port = stack.enter_context(smtp_server())
        self.sink = sink
        database_url = stack.enter_context(scratch_database())
        self.database_url = database_url
        self.db_name = make_url(database_url).database
        self.admin = create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
        stack.callback(self.admin.dispose)
        prefix = f"chaos-{uuid.uuid4().hex[:8]}"
        self.queue_name = prefix
        env = {
            "CHATS_RATE_LIMIT_MESSAGES": "1000000/minute",
            "CHATS_RATE_LIMIT_CONVERSATIONS": "1000000/hour",
            "CHATS_TELEGRAM_API_BASE": self.fake.url,
            "CHATS_SEND_BACKOFF": "0.5",
            "CHATS_SEND_MAX_ATTEMPTS": "8",
            "CHATS_CHANNEL_TIMEOUT": "5",
        }
        self.staff_ids, (widget_key, bot_key), secret = seed(
            database_url, self.redis.url, prefix, env, plan, smtp_port
        )
        common = {
            "database_url": database_url, "redis_url": self.redis.url, "redis_prefix": prefix,
            "extra_env": env,
        }  # fmt: skip
        self.web = Web(common)
        stack.callback(self.web.stop)
        self.urls = self.web.urls
        worker_env = {
            **os.environ, **env,
            "HOSTAPP_DATABASE_URL": database_url, "HOSTAPP_REDIS_URL": self.redis.url,
            "HOSTAPP_REDIS_PREFIX": prefix, "CHATS_PUBLIC_URL": self.urls[0],
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "PYTHONUNBUFFERED": "1",
        }  # fmt: skip
        self.worker = Worker(worker_env, self.redis.url, prefix)
        stack.callback(self.worker.stop)
        self.worker.wait_ready()
        stack.callback(self.stop.set)

        self.managers = [
            Manager(i, sid, self.urls, self.ledger, self.stop)
            for i, sid in enumerate(self.staff_ids)
        ]
        self.visitors = [
            Visitor(i, self.urls, widget_key, self.ledger, self.stop) for i in range(plan.visitors)
        ]
        for v in self.visitors:
            v.open()
        self.customers = [
            TelegramCustomer(i, self.urls, bot_key, secret, self.ledger)
            for i in range(plan.telegram_chats)
        ]
        # Each Telegram customer says hello first, so its conversation exists to be taken.
        for t in self.customers:
            assert t.send(f"t{t.n}-0-hello", 0, time.monotonic() + 60, self.stop)
        self.assignments: list[tuple[Manager, int]] = []
        for i, v in enumerate(self.visitors):
            self.assignments.append((self.managers[i % plan.managers], v.conv_id))
        for t in self.customers:
            t.conv_id = self._telegram_conversation(t)
            self.ledger.sent[f"t{t.n}-0-hello"].conversation_id = t.conv_id
            self.assignments.append((self.managers[t.n % plan.managers], t.conv_id))
        for m, conv in self.assignments:
            m.take(conv)
        self.log(
            f"  started: 2 web, 1 worker, redis :{self.redis.port}, {plan.visitors} visitors, "
            f"{plan.telegram_chats} Telegram chats, {plan.managers} managers"
        )

    def _telegram_conversation(self, t: TelegramCustomer, timeout: float = 60.0) -> int:
        engine = create_engine(self.database_url)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    conv = conn.execute(
                        text(
                            "SELECT c.id FROM chats_conversations c JOIN chats_contacts k "
                            "ON k.id = c.contact_id WHERE k.external_id = :x"
                        ),
                        {"x": str(t.chat_id)},
                    ).scalar()
                if conv:
                    return int(conv)
                time.sleep(0.2)
        finally:
            engine.dispose()
        raise RuntimeError(f"no conversation for Telegram chat {t.chat_id}")

    def _load(self) -> None:
        plan = self.plan
        self.t0 = time.monotonic()
        deadline = self.t0 + plan.duration * 3 + 60
        threads = [
            threading.Thread(target=self.visitor_load, args=(v, deadline)) for v in self.visitors
        ]
        threads += [
            threading.Thread(target=self.manager_load, args=(m, conv, deadline))
            for m, conv in self.assignments
        ]
        threads += [
            threading.Thread(target=self.telegram_load, args=(t, deadline)) for t in self.customers
        ]
        fault_thread = threading.Thread(target=self.faults)
        for th in [*threads, fault_thread]:
            th.daemon = True
            th.start()
        for th in threads:
            th.join()
        fault_thread.join()
        if self.restarting is not None:
            self.restarting.join()
        self.log(f"  load done in {time.monotonic() - self.t0:.1f}s, {len(self.ledger.sent)} sent")

    def _pending_outbound(self) -> int:
        """Replies still to send, plus webhook deliveries still to process."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        text(
                            "SELECT (SELECT count(*) FROM chats_messages "
                            "WHERE delivery_status = 'pending') + (SELECT count(*) "
                            "FROM chats_inbound_events WHERE processed_at IS NULL)"
                        )
                    ).scalar()
                    or 0
                )
        finally:
            engine.dispose()

    def _settle(self) -> None:
        """Wait for the worker to finish outbound sends, then make every client sync once more."""
        deadline = time.monotonic() + self.plan.settle_timeout
        while time.monotonic() < deadline:
            pending = self._pending_outbound()
            if pending == 0 and not self._telegram_missing():
                break
            time.sleep(0.5)
        # Emails of the last windows are due email_timeout after their message.
        time.sleep(self.plan.email_timeout + 3)
        sockets = [v.socket for v in self.visitors if v.socket] + [m.socket for m in self.managers]
        for s in sockets:
            if not s.final_sync():
                self.report.details.append(f"{s.name}: final sync did not complete")

    def _telegram_missing(self) -> bool:
        texts = {c.params.get("text") for c in self.fake.calls("sendMessage")}
        return any(
            s.sender.startswith("manager")
            and s.conversation_id in self._telegram_convs()
            and s.key not in texts
            for s in list(self.ledger.sent.values())
        )

    def _telegram_convs(self) -> set[int]:
        return {t.conv_id for t in self.customers}

    # -- checks ------------------------------------------------------------------------------------

    def _check(self) -> None:  # noqa: C901 - one pass per figure, kept together
        r = self.report
        ledger = self.ledger
        sent = list(ledger.sent.values())
        r.sent = len(sent)
        r.unconfirmed = len(ledger.unconfirmed)
        tg_convs = self._telegram_convs()
        owner = {conv: m for m, conv in self.assignments}
        visitor_of = {v.conv_id: v for v in self.visitors}

        # What the database holds, by body (every body is a unique key).
        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, conversation_id, body FROM chats_messages")).all()
            notified = int(
                conn.execute(
                    text("SELECT count(*) FROM chats_notification_log WHERE recipients > 0")
                ).scalar()
                or 0
            )
        engine.dispose()
        by_body: dict[str, list[int]] = defaultdict(list)
        for mid, _conv, body in rows:
            by_body[body or ""].append(mid)
        for s in sent:
            ids = by_body.get(s.key, [])
            if len(ids) > 1:
                r.duplicated += len(ids) - 1
                r.details.append(f"duplicate rows for {s.key}: {ids}")

        # What each receiver accepted.
        def received(receiver: str, conv: int) -> dict[str, Seen]:
            return {x.body: x for x in ledger.seen.get(receiver, {}).get(conv, {}).values()}

        views: dict[tuple[str, int], dict[str, Seen]] = {}
        for s in sent:
            if s.sender.startswith("manager"):
                if s.conversation_id in tg_convs:
                    continue  # checked at the fake Telegram below
                receiver = visitor_of[s.conversation_id].name
            else:
                receiver = owner[s.conversation_id].name
            view = views.setdefault(
                (receiver, s.conversation_id), received(receiver, s.conversation_id)
            )
            got = view.get(s.key)
            if got is None:
                r.lost += 1
                where = "in the database" if s.key in by_body else "not in the database"
                r.details.append(f"lost: {s.key} ({s.sender} -> {receiver}), {where}")
            elif s.started is not None:
                s.delivered = got.at  # type: ignore[attr-defined]
        r.duplicated += ledger.created_twice

        # Order: each sender's messages in the receiver's sequence order follow the send order.
        per_sender: dict[tuple[str, int], list[Sent]] = defaultdict(list)
        for s in sent:
            per_sender[(s.sender, s.conversation_id)].append(s)
        for (sender, conv), items in per_sender.items():
            if sender.startswith("manager") and conv in tg_convs:
                continue
            receiver = visitor_of[conv].name if sender.startswith("manager") else owner[conv].name
            view = views.get((receiver, conv), {})
            seqs = [view[s.key].seq for s in sorted(items, key=lambda s: s.index) if s.key in view]
            bad = sum(1 for a, b in itertools.pairwise(seqs) if b < a)
            if bad:
                r.out_of_order += bad
                r.details.append(f"out of order: {sender} in {conv}: {seqs}")

        # Telegram: each manager reply in a Telegram chat reached the fake exactly once.
        calls = Counter(c.params.get("text") for c in self.fake.calls("sendMessage"))
        arrived = {c.params.get("text"): c.at for c in self.fake.calls("sendMessage")}
        for s in sent:
            if s.sender.startswith("manager") and s.conversation_id in tg_convs:
                n = calls.get(s.key, 0)
                if n == 0:
                    r.telegram_never += 1
                    r.details.append(f"never sent to Telegram: message {s.message_id} {s.key}")
                elif n > 1:
                    r.telegram_twice += n - 1
                    r.details.append(f"sent {n} times to Telegram: message {s.message_id}")
                else:
                    s.delivered = arrived[s.key]  # type: ignore[attr-defined]

        # Emails: the same content to the same people twice is a duplicate.
        with self.sink.lock:
            emails = list(self.sink.emails)
        r.emails = len(emails)
        twice = sum(n - 1 for n in Counter(emails).values() if n > 1)
        r.emails_twice = twice
        if len(set(emails)) != notified:
            r.details.append(f"{len(set(emails))} distinct emails for {notified} notification rows")

        # Recovery: how long after the fault the messages caught in it (sent from 1 s before to
        # 0.5 s after) were all delivered. The worker's fault is seen in Telegram chats (both
        # directions go through jobs), the others in widget chats.
        for f in r.faults:
            worker_side = f.kind == "kill_worker"
            window = [
                s for s in sent
                if f.at - 1.0 <= s.started <= f.at + 0.5
                and (s.conversation_id in tg_convs) == worker_side
                and getattr(s, "delivered", None) is not None
            ]  # fmt: skip
            if window:
                latest = max(s.delivered for s in window)  # type: ignore[attr-defined]
                f.recovered = max(0.0, latest - f.at)


def print_report(r: Report, log: Callable[[str], None]) -> None:
    log(f"messages sent (both directions, confirmed): {r.sent - r.unconfirmed} of {r.sent}")
    log(f"lost: {r.lost}   duplicated: {r.duplicated}   out of order: {r.out_of_order}")
    log(f"Telegram sends: more than once {r.telegram_twice}, never {r.telegram_never}")
    log(f"emails: {r.emails} sent, {r.emails_twice} sent twice")
    log("fault                at        detail                      recovered in")
    for f in r.faults:
        rec = f"{f.recovered:.2f}s" if f.recovered is not None else "n/a"
        log(f"  {f.kind:<16} {f.at:>8.1f}  {f.detail:<26}  {rec}")
    for line in r.details[:40]:
        log(f"  ! {line}")
    log(f"retried answers: {dict(REFUSALS)}")
    log(f"total {r.seconds:.0f}s")


def run(plan: Plan) -> Report:
    import logging

    # The fake Telegram's request log would drown the report.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    chaos = Chaos(plan)
    report = chaos.run()
    t0 = chaos.t0
    for f in report.faults:
        f.at -= t0
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--managers", type=int, default=3)
    parser.add_argument("--telegram", type=int, default=10)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated kinds")
    args = parser.parse_args(argv)
    plan = Plan(
        visitors=args.visitors, managers=args.managers, telegram_chats=args.telegram,
        messages=args.messages, duration=args.duration, rounds=args.rounds, seed=args.seed,
        faults=tuple(args.faults.split(",")),
    )  # fmt: skip
    print(f"chaos: seed {plan.seed}")
    report = run(plan)
    print_report(report, print)
    return 0 if not any(report.zeros().values()) else 1


if __name__ == "__main__":
    sys.exit(main())
