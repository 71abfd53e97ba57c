"""A large import on PostgreSQL writes its search data without the GIN index and makes the
index again at the end, when it stops, or (after a hard stop) in housekeeping; searches find
the imported records all along. SQLite keeps its FTS table as it is."""

from __future__ import annotations

from typing import Any

import pytest

from api.customers import records, search
from api.imports import engine, tasks
from api.imports import services as imports
from api.jobs.runner import run_job
from api.principal import SYSTEM, Principal
from api.runtime import Runtime
from tests.integration.imports.test_import_robust import (
    ROWS,
    batch_of,
    fail_on_call,
    stored_batch,
)


def suspended(runtime: Runtime) -> bool:
    with runtime.db.read() as session:
        return search.index_suspended(session.connection(), "customers")


def found(runtime: Runtime, q: str) -> list[str]:
    with runtime.db.read() as session:
        page = records.list_records(session, SYSTEM, "customers", q=q, limit=50)
    return sorted(r["values"]["email"] for r in page.items)


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "CHUNK", 3)
    monkeypatch.setattr(search, "DEFER_INDEX_ROWS", 5)


def watch_index(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the index was missing while each chunk wrote its rows."""
    seen: list[bool] = []
    real = engine.write

    def write(session: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(search.index_suspended(session.connection(), "customers"))
        return real(session, *args, **kwargs)

    monkeypatch.setattr(engine, "write", write)
    return seen


def test_a_large_import_builds_the_search_index_once_at_the_end(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch,
    small_threshold: None,
) -> None:  # fmt: skip
    seen = watch_index(runtime, monkeypatch)
    batch_id = stored_batch(runtime, actor, ROWS)
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    assert run_job(runtime, tasks.RUN, job_id) == "done"
    postgres = runtime.db.engine.dialect.name == "postgresql"
    assert seen == [postgres] * 4  # every chunk wrote without the index on PostgreSQL
    assert not suspended(runtime)
    assert found(runtime, "n7") == ["u7@example.com"]
    assert found(runtime, "example") == sorted(f"u{n}@example.com" for n in range(10))


def test_a_small_import_keeps_the_index(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "CHUNK", 3)
    seen = watch_index(runtime, monkeypatch)
    batch_id = stored_batch(runtime, actor, ROWS)
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    assert run_job(runtime, tasks.RUN, job_id) == "done"
    assert seen == [False] * 4


# the GIN index is PostgreSQL's; SQLite's FTS table is never dropped
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_stopped_import_makes_the_index_again_and_resume_finishes_it(
    runtime: Runtime, table: str, actor: Principal, monkeypatch: pytest.MonkeyPatch,
    small_threshold: None,
) -> None:  # fmt: skip
    seen = watch_index(runtime, monkeypatch)
    fail_on_call(monkeypatch, engine, "write", 2)
    batch_id = stored_batch(runtime, actor, ROWS)
    with runtime.db.transaction() as session:
        job_id = imports.start_run(session, actor, "customers", batch_id, tasks.RUN)
    assert run_job(runtime, tasks.RUN, job_id) == "failed"
    assert batch_of(runtime, batch_id).state == "interrupted"
    assert not suspended(runtime)  # searches stay fast while the import waits
    assert found(runtime, "n1") == ["u1@example.com"]
    with runtime.db.transaction() as session:
        resumed = imports.resume(session, actor, "customers", batch_id, tasks.RUN, tasks.UNDO,
                                 imports_dir=runtime.settings.imports_dir)  # fmt: skip
    assert run_job(runtime, tasks.RUN, resumed) == "done"
    assert seen[-3:] == [True, True, True]  # 7 rows to go: dropped again
    assert not suspended(runtime)
    assert found(runtime, "n9") == ["u9@example.com"]


# the GIN index is PostgreSQL's; SQLite's FTS table is never dropped
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_housekeeping_makes_an_index_left_out_by_a_killed_worker(
    runtime: Runtime, table: str, actor: Principal
) -> None:
    with runtime.db.transaction() as session:
        design = imports.load_design(session, "customers")
        assert search.suspend_index(session.connection(), design, 10**6)
    assert suspended(runtime)
    with runtime.db.transaction() as session:
        assert imports.restore_search_indexes(session) == 1
    assert not suspended(runtime)
    with runtime.db.transaction() as session:
        assert imports.restore_search_indexes(session) == 0
