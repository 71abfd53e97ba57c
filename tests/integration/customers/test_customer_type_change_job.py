"""A type change on a large table runs as a job with progress (the threshold lowered here), on
SQLite and PostgreSQL: the check still comes first, the job converts in chunks, catches the
records written meanwhile, swaps the column at the end, and leaves the field as it was when
it fails."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from api.audit.models import AuditEntry
from api.customers import records, services, type_change
from api.customers.definitions import parse_field, parse_table
from api.errors import Conflict
from api.jobs import services as jobs
from api.jobs.models import JobState, UnitState
from api.jobs.runner import run_job
from api.principal import SYSTEM, Principal
from api.runtime import Runtime
from tests.fixtures.app import StaffClient


@pytest.fixture(autouse=True)
def small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "TYPE_CHANGE_JOB_ROWS", 5)
    monkeypatch.setattr(type_change, "CHUNK_IDS", 4)


@pytest.fixture
def table(runtime: Runtime, actor: Principal) -> str:
    with runtime.db.transaction() as session:
        services.create_table(
            session,
            actor,
            parse_table({"key": "customers"}),
            [
                parse_field({"key": "name", "type": "text"}),
                parse_field({"key": "age", "type": "text", "indexed": True}),
            ],
        )
        for n in range(1, 11):
            records.create_record(
                session, actor, "customers", {"name": f"n{n}", "age": "forty" if n == 3 else f"{n}"}
            )
    return "customers"


def change(runtime: Runtime, actor: Principal, allow_loss: bool = False) -> services.FieldChange:
    with runtime.db.transaction() as session:
        spec = parse_field({"key": "age", "type": "integer", "indexed": True})
        return services.update_field(
            session, actor, "customers", "age", spec, allow_loss=allow_loss
        )


def ages(runtime: Runtime) -> dict[str, Any]:
    with runtime.db.read() as session:
        page = records.list_records(session, SYSTEM, "customers", limit=100)
    return {r["values"]["name"]: r["values"]["age"] for r in page.items}


def column_type(runtime: Runtime) -> Any:
    with runtime.db.read() as session:
        cols = sa.inspect(session.connection()).get_columns("ct_customers")
    return {c["name"]: c["type"] for c in cols}


def run(runtime: Runtime, job_id: int) -> Any:
    assert run_job(runtime, type_change.KIND, job_id) is not None
    with runtime.db.read() as session:
        job = jobs.get_job(session, job_id)
        snapshot = {k: getattr(job, k) for k in ("state", "error", "units_finished", "units_total")}
        return snapshot, jobs.unit_counts(session, job_id)


def test_the_check_comes_first_then_the_job_converts_in_chunks(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    with pytest.raises(Conflict) as refused:
        change(runtime, actor)
    assert refused.value.code == "values_would_be_lost"
    assert [(e.row, e.code) for e in refused.value.errors] == [(3, "not_integer")]
    started = change(runtime, actor, allow_loss=True)
    assert started.job_id is not None and not started.applied
    assert started.problem_count == 1
    with pytest.raises(Conflict) as busy:  # the field is being converted: no other change
        change(runtime, actor, allow_loss=True)
    assert busy.value.code == "type_change_running"
    with runtime.db.transaction() as session:  # written while the job waits: caught at the swap
        records.create_record(session, actor, "customers", {"name": "late", "age": "７７"})

    job, counts = run(runtime, started.job_id)
    assert counts == {UnitState.done: 6}, job["error"]
    assert job["state"] == JobState.done  # prepare, 3 chunks of 4 ids, swap, cleanup
    assert job["units_finished"] == job["units_total"] == 6
    got = ages(runtime)
    assert got["n3"] is None and got["n1"] == 1 and got["n10"] == 10 and got["late"] == 77
    columns = column_type(runtime)
    assert isinstance(columns["c_age"], sa.BigInteger) and "c_age__new" not in columns
    with runtime.db.read() as session:
        design = services.load_design(session, "customers")
        assert str(design.specs["age"].type) == "integer"
        assert "type_change_job" not in (design.field_row("age").options or {})
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "customers.field.update")
        ).all()[-1]
        assert entry.after["type"] == "integer" and entry.after["values_lost"] == 1
        indexes = {i["name"] for i in sa.inspect(session.connection()).get_indexes("ct_customers")}
    assert "ix_ct_customers_age" in indexes


def test_a_value_that_turns_bad_during_the_job_leaves_the_field_as_it_was(
    runtime: Runtime, actor: Principal, table: str
) -> None:
    with runtime.db.transaction() as session:
        records.update_record(session, actor, "customers", 3, {"age": "3"}, version=1)
    started = change(runtime, actor)  # every value converts now: no confirmation asked
    assert started.job_id is not None and started.problem_count == 0
    with runtime.db.transaction() as session:
        records.create_record(session, actor, "customers", {"name": "bad", "age": "oops"})

    job, counts = run(runtime, started.job_id)
    assert counts[UnitState.failed] == 1 and counts[UnitState.done] == 5
    assert "no longer convert" in (job["error"] or "")
    columns = column_type(runtime)
    assert isinstance(columns["c_age"], sa.Text) and "c_age__new" not in columns
    got = ages(runtime)
    assert got["bad"] == "oops" and got["n3"] == "3"
    with runtime.db.read() as session:
        design = services.load_design(session, "customers")
        assert str(design.specs["age"].type) == "text"
        assert "type_change_job" not in (design.field_row("age").options or {})
    with runtime.db.transaction() as session:  # the field can be changed again
        records.update_record(session, actor, "customers", 11, {"age": "11"}, version=1)
    again = change(runtime, actor)
    assert again.job_id is not None
    job, _ = run(runtime, again.job_id)
    assert job["state"] == JobState.done and ages(runtime)["bad"] == 11


def test_the_api_answers_202_and_the_embedded_worker_runs_the_job(admin: StaffClient) -> None:
    base = "/api/customers/tables/customers"
    body = {"key": "customers", "fields": [{"key": "age", "type": "text"}]}
    assert admin.post("/api/customers/tables", json=body).status_code == 201
    for n in range(8):
        admin.post(f"{base}/records", json={"values": {"age": str(n)}})
    started = admin.patch(f"{base}/fields/age", json={"type": "integer"})
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    assert started.json()["applied"] is False and job_id
    for _ in range(200):  # the embedded worker picks it up after the commit
        job = admin.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed", "uncertain"):
            break
        time.sleep(0.05)
    assert job["state"] == "done", job
    field = next(f for f in admin.get(base).json()["fields"] if f["key"] == "age")
    assert field["type"] == "integer"
    assert {r["values"]["age"] for r in admin.get(f"{base}/records").json()["items"]} == set(
        range(8)
    )


@pytest.mark.parametrize("typed", ["42", "４２"])
def test_postgresql_casts_in_place_only_when_the_cast_gives_the_same_values(
    runtime: Runtime, actor: Principal, table: str, monkeypatch: pytest.MonkeyPatch, typed: str
) -> None:
    monkeypatch.setattr(services, "TYPE_CHANGE_JOB_ROWS", 1_000)  # in the request
    with runtime.db.transaction() as session:
        records.update_record(session, actor, "customers", 3, {"age": typed}, version=1)
    done = change(runtime, actor)
    assert done.applied and done.job_id is None
    exact = typed == "42"  # "４２" is 42 to the normaliser, an error to a cast
    assert done.fast_path is (exact and runtime.db.dialect == "postgresql")
    got = ages(runtime)
    assert got["n3"] == 42 and got["n10"] == 10
    assert isinstance(column_type(runtime)["c_age"], sa.BigInteger)
