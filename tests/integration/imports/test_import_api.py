"""The import API end to end (the embedded worker runs the jobs), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from tests.fixtures.app import StaffClient

BASE = "/api/customers/tables/customers"
TABLE = {
    "key": "customers",
    "label": {"ja": "顧客", "en": "Customers"},
    "fields": [
        {
            "key": "email",
            "type": "email",
            "unique": True,
            "label": {"ja": "メールアドレス", "en": "E-mail"},
        },
        {"key": "name", "type": "text", "required": True, "label": {"ja": "氏名", "en": "Name"}},
        {"key": "phone", "type": "phone", "label": {"ja": "電話番号", "en": "Phone"}},
        {"key": "age", "type": "integer", "label": {"ja": "年齢", "en": "Age"}},
    ],
}


def make_table(admin: StaffClient) -> None:
    assert admin.post("/api/customers/tables", json=TABLE).status_code == 201


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client: StaffClient, data: bytes, name: str = "a.csv", **form: str) -> Any:
    return client.post(
        f"{BASE}/imports", files={"file": (name, data, "text/csv")}, data=form or None
    )


def wait(client: StaffClient, job_id: int) -> dict[str, Any]:
    for _ in range(400):
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed", "uncertain"):
            return job
        time.sleep(0.05)
    raise AssertionError(job)


def records(client: StaffClient) -> dict[str, dict[str, Any]]:
    items = client.get(f"{BASE}/records", params={"limit": 500}).json()["items"]
    return {r["values"]["email"]: r["values"] for r in items}


def test_upload_check_run_report_undo(admin: StaffClient) -> None:
    make_table(admin)
    admin.post(f"{BASE}/records", json={"values": {"email": "taro@example.com", "name": "太郎"}})
    data = csv_bytes(
        [
            ["メールアドレス", "氏名", "電話番号", "年齢"],
            ["ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "山田太郎", "03-1234-5678", "40"],
            ["hanako@example.com", "花子", "", "３０"],
            ["bad", "x", "", "y"],
            [" taro@example.com ", "二回目", "", ""],
            ["jiro@example.com", "=1+2", "", ""],
        ],
        "cp932",
    )
    made = upload(admin, data)
    assert made.status_code == 201, made.text
    batch = made.json()
    assert batch["encoding"] == "cp932" and batch["rows_estimate"] == 5
    assert batch["mapping"] == {"0": "email", "1": "name", "2": "phone", "3": "age"}
    assert batch["key"] == ["email"] and batch["mode"] == "upsert"
    url = f"{BASE}/imports/{batch['id']}"
    job = admin.post(f"{url}/check").json()["job_id"]
    assert wait(admin, job)["state"] == "done"
    check = admin.get(url).json()["check"]
    assert (check["new"], check["updated"], check["invalid"], check["duplicate_keys"]) == (
        2,
        1,
        1,
        1,
    )
    assert {(e["row"], e["column"]) for e in check["errors"]} >= {(4, 1), (5, None)}
    job = admin.post(f"{url}/run", json={}).json()["job_id"]
    assert wait(admin, job)["state"] == "done"
    done = admin.get(url).json()
    assert done["state"] == "done", done
    assert done["result"]["created"] == 2 and done["result"]["updated"] == 1
    found = records(admin)
    assert found["taro@example.com"]["name"] == "山田太郎"
    assert found["jiro@example.com"]["name"] == "=1+2"
    report = admin.get(f"{url}/errors.csv")
    assert report.status_code == 200
    text = report.content.decode("cp932")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][-1] == "エラー / Error" and [r[0] for r in lines[1:]] == [
        "bad",
        " taro@example.com ",
    ]
    # undo: taro's name changed since by hand stays, the rest goes back
    taro = admin.get(f"{BASE}/records", params={"limit": 50}).json()["items"]
    jiro = next(r for r in taro if r["values"]["email"] == "jiro@example.com")
    admin.patch(
        f"{BASE}/records/{jiro['id']}", json={"values": {"age": 5}, "version": jiro["version"]}
    )
    job = admin.post(f"{url}/undo").json()["job_id"]
    assert wait(admin, job)["state"] == "done"
    undone = admin.get(url).json()
    assert undone["state"] == "undone", undone
    assert undone["undo"]["deleted"] == 1 and undone["undo"]["restored"] >= 1
    assert [s["record_id"] for s in undone["undo"]["skipped"]] == [jiro["id"]]
    after = records(admin)
    assert set(after) == {"taro@example.com", "jiro@example.com"}
    assert after["taro@example.com"]["name"] == "太郎"
