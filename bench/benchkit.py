"""What the benchmarks share: p50/p95 of timed samples, a line of figures beside a peer's, an
interleaved comparison of ours and its peers, and a scratch PostgreSQL database.

Imported by the scripts as ``benchkit`` (they run as ``python bench/<name>.py``, so this folder
is on the path)."""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from api.db import make_engine


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds of samples in seconds."""
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def line(label: str, samples: list[float], peer: tuple[float, float] | None = None) -> None:
    p50, p95 = percentiles(samples)
    ratio = f"   ×{p50 / peer[0]:.2f} / ×{p95 / peer[1]:.2f}" if peer else ""
    print(f"  {label:<60} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms{ratio}")


def compare(queries: int, ours: tuple[str, Callable[[int], Any]], *peers: Any) -> None:
    """Time ours and its peers over ``queries`` runs, interleaved (so load from elsewhere on
    the machine falls on both alike); print p50/p95 and ours / the first peer."""
    runs = [ours, *peers]
    for _, fn in runs:
        fn(0)  # warm up
    samples: list[list[float]] = [[] for _ in runs]
    for i in range(queries):
        for n, (_, fn) in enumerate(runs):
            start = time.perf_counter()
            fn(i)
            samples[n].append(time.perf_counter() - start)
    for (label, _), taken in zip(peers, samples[1:], strict=True):
        line(label, taken)
    line(ours[0], samples[0], percentiles(samples[1]))


@contextmanager
def scratch_postgres(server_url: str) -> Iterator[str]:
    """A new database on ``server_url``'s server for one run (its URL), dropped afterwards."""
    name = f"kizuna_bench_{secrets.token_hex(4)}"
    admin = make_engine(server_url, pool=False).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
