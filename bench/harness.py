"""What the benches share: the machine line, percentiles, a scratch database, server processes.

Every bench prints :func:`machine` with its figures, since a shared 2-core box moves them more
than most code changes do; ``os.getloadavg()`` is read before and after each measured part.
"""

from __future__ import annotations

import os
import platform
import resource
import secrets
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ADMIN_DB_URL = os.environ.get(
    "CHATS_BENCH_DATABASE_URL",
    os.environ.get("CHATS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
REDIS_URL = os.environ.get(
    "CHATS_BENCH_REDIS_URL", os.environ.get("CHATS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> str:
    """One line: CPU, cores, load average (1/5/15 min), Python."""
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores, load average {load()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in seconds]
    return {
        "p50": pct(ms, 50),
        "p90": pct(ms, 90),
        "p99": pct(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
    }


def raise_nofile(wanted: int) -> int:
    """Raise the soft open-files limit towards ``wanted`` (up to the hard limit); returns it.

    Child processes (the servers) inherit it. Production sets it with ``ulimit -n`` or
    systemd's ``LimitNOFILE=`` (docs/deployment.rst)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new empty database next to ``ADMIN_DB_URL``; dropped (forcibly) at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(ADMIN_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"chats_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(ADMIN_DB_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def scratch_redis_prefix(tag: str = "gcbench") -> Iterator[str]:
    import redis

    prefix = f"{tag}-{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def worker_pid(master_pid: int, timeout: float = 10.0) -> int:
    """The pid of gunicorn's (one) worker under ``master_pid``."""
    deadline = time.monotonic() + timeout
    path = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    while True:
        children = path.read_text().split() if path.exists() else []
        if children:
            return int(children[0])
        if time.monotonic() > deadline:
            raise RuntimeError(f"no worker under gunicorn {master_pid}")
        time.sleep(0.05)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def table(rows: list[tuple[str, dict[str, float]]], columns: tuple[str, ...], unit: str) -> str:
    width = max(len(name) for name, _ in rows) + 2
    lines = [f"{'':{width}}" + "".join(f"{c:>9}" for c in columns) + f"  ({unit})"]
    for name, row in rows:
        lines.append(f"{name:{width}}" + "".join(f"{row[c]:9.3f}" for c in columns))
    return "\n".join(lines)
