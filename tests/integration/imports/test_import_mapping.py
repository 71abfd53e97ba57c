"""Mapping, keys and the bulk path's agreement with the record path, on both databases."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from api.customers import records
from api.errors import ValidationFailed
from api.imports import engine
from api.imports import services as imports
from api.principal import SYSTEM, Principal
from api.runtime import Runtime
from tests.fixtures.app import StaffClient
from tests.integration.imports.test_import_api import BASE, csv_bytes, make_table, upload, wait

HOSTILE = [
    "=1+2", "@SUM(A1)", "-3", "+81 3", "\t tab", "ＡＢＣ", "ｶﾀｶﾅ", "①㈱髙", "a\u0000b", "x" * 300,
    "", "   ", "TRUE", "はい", "２０２６/１１/２９", "2026-02-30", "１２３", "12.5", "-0",
    "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ", "taro@@example", "０３（１２３４）５６７８", "abc",
    "\u3000全角スペース\u3000", "😀", "𠮷野家", "〜", "<script>",
]  # fmt: skip


def test_the_import_cleans_every_value_as_the_record_path_does(
    admin: StaffClient, runtime: Runtime
) -> None:
    body = {
        "key": "customers",
        "fields": [
            {"key": "text", "type": "text", "max_length": 200},
            {"key": "email", "type": "email"},
            {"key": "phone", "type": "phone"},
            {"key": "num", "type": "integer"},
            {"key": "dec", "type": "decimal", "decimal_places": 2},
            {"key": "day", "type": "date"},
            {"key": "yes", "type": "boolean"},
            {"key": "kana", "type": "furigana"},
        ],
    }
    assert admin.post("/api/customers/tables", json=body).status_code == 201
    with runtime.db.read() as session:
        design = records.load_design(session, "customers")
        specs = [s for _, s in design.active()]
    plan = engine.Plan(design, list(enumerate(specs)), [], "insert")
    validator = engine.Validator(plan)
    for n, value in enumerate(HOSTILE):
        row = validator.row(n + 2, [value] * len(specs))
        bulk = {r["field"]: r["code"] for r in row.reasons}
        for spec in specs:
            with runtime.db.transaction() as session:
                try:
                    stored = records.create_record(session, SYSTEM, "customers", {spec.key: value})
                    expected: Any = ("ok", stored["values"][spec.key])
                except ValidationFailed as exc:
                    expected = ("error", exc.errors[0].code)
            if spec.key in bulk:
                got: Any = ("error", bulk[spec.key])
            else:
                got = ("ok", records.to_json(spec, row.values[spec.key]))
            if spec.key == "dec" and got[0] == expected[0] == "ok" and got[1] is not None:
                got, expected = Decimal(got[1]), Decimal(expected[1])  # -0.00 is 0.00 stored
            assert got == expected, (value, spec.key)


def test_mapping_by_label_and_patch_errors(admin: StaffClient) -> None:
    make_table(admin)
    made = upload(
        admin, csv_bytes([["ｅ－ｍａｉｌ", " 氏名 ", "NAME", "memo"], ["a@x.jp", "A", "B", "m"]])
    )
    batch = made.json()
    assert batch["mapping"] == {"0": "email", "1": "name", "2": None, "3": None}
    assert batch["mapping_source"] == "auto"
    url = f"{BASE}/imports/{batch['id']}"
    twice = admin.patch(url, json={"mapping": {"1": "name", "2": "name"}})
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["field"] == "mapping.2"
    assert twice.json()["errors"][0]["code"] == "import_mapped_twice"
    unknown = admin.patch(url, json={"mapping": {"0": "email", "3": "nope"}})
    assert unknown.json()["errors"][0]["code"] == "import_unknown_field"
    nokey = admin.patch(url, json={"mapping": {"1": "name"}, "mode": "update", "key": ["email"]})
    assert nokey.status_code == 422 and nokey.json()["errors"][0]["field"] == "key"
    ok = admin.patch(url, json={"mapping": {"0": "email", "1": None, "2": "name"}})
    assert ok.status_code == 200, ok.text
    assert ok.json()["mapping_source"] == "manual"
    assert wait(admin, admin.post(f"{url}/run").json()["job_id"])["state"] == "done"
    # the next file with the same columns gets the mapping the last run used
    again = upload(
        admin, csv_bytes([["ｅ－ｍａｉｌ", " 氏名 ", "NAME"], ["b@x.jp", "A", "B"]])
    ).json()
    assert again["mapping_source"] == "remembered"
    assert again["mapping"] == {"0": "email", "1": None, "2": "name"}
    # history: source import, the batch's id
    item = admin.get(f"{BASE}/records").json()["items"][0]
    history = admin.get(f"{BASE}/records/{item['id']}/history").json()
    entries = history if isinstance(history, list) else history["items"]
    assert entries[0]["source"] == "import"


def test_xlsx(admin: StaffClient, tmp_path: Path) -> None:
    from openpyxl import Workbook

    make_table(admin)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["E-mail", "Name", "Age"])
    sheet.append(["x@example.com", "髙橋①", 42])
    out = io.BytesIO()
    book.save(out)
    made = upload(admin, out.getvalue(), name="a.xlsx")
    assert made.status_code == 201, made.text
    assert made.json()["format"] == "xlsx"
    url = f"{BASE}/imports/{made.json()['id']}"
    assert wait(admin, admin.post(f"{url}/run").json()["job_id"])["state"] == "done"
    item = admin.get(f"{BASE}/records").json()["items"][0]
    assert item["values"]["name"] == "髙橋①" and item["values"]["age"] == 42


def test_a_file_in_the_wrong_encoding_is_refused_and_not_kept(
    admin: StaffClient, runtime: Runtime
) -> None:
    make_table(admin)
    data = csv_bytes([["氏名"], ["髙橋"]], "cp932")
    answer = upload(admin, data, encoding="utf-8")
    assert answer.status_code == 422
    problem = answer.json()["errors"][0]
    assert problem["code"] == "file_not_utf8" and "CP932" in problem["message"]
    assert list(runtime.settings.imports_dir.glob("*")) == []


def test_a_file_refused_for_its_encoding_is_kept_when_asked_and_read_again(
    admin: StaffClient, runtime: Runtime
) -> None:
    """The admin asks to keep a file refused for its encoding: the same file is read again
    in another encoding without sending it again (the whole file checked each time)."""
    make_table(admin)
    data = csv_bytes([["メールアドレス", "氏名"], ["a@example.com", "髙橋①"]], "cp932")
    answer = admin.post(
        f"{BASE}/imports",
        params={"keep_refused": "true"},
        files={"file": ("名簿.csv", data, "text/csv")},
        data={"encoding": "utf-8"},
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["code"] == "file_not_utf8" and "CP932" in error["message"]
    batch_id = error["params"]["batch_id"]
    assert len(list(runtime.settings.imports_dir.glob("*"))) == 1
    assert admin.get(f"{BASE}/imports").json() == []  # not an import (yet)
    url = f"{BASE}/imports/{batch_id}"
    kept = admin.get(url).json()
    assert (kept["state"], kept["header"], kept["filename"]) == ("refused", [], "名簿.csv")
    assert kept["refusal"]["code"] == "file_not_utf8" and kept["check"] is None
    # Only the encoding can change; not run, not checked.
    assert admin.patch(url, json={"mode": "insert"}).status_code == 409
    assert admin.post(f"{url}/run").status_code == 409
    # The same encoding again: the same refusal, the batch as it was.
    again = admin.patch(url, json={"encoding": "utf-8"})
    assert again.status_code == 422
    assert again.json()["errors"][0]["code"] == "file_not_utf8"
    assert again.json()["errors"][0]["params"]["batch_id"] == batch_id
    assert admin.get(url).json()["state"] == "refused"
    read = admin.patch(url, json={"encoding": "cp932"})
    assert read.status_code == 200, read.text
    batch = read.json()
    assert (batch["state"], batch["encoding"], batch["rows_estimate"]) == ("uploaded", "cp932", 1)
    assert batch["sample"] == [["a@example.com", "髙橋①"]] and batch["refusal"] is None
    assert batch["mapping"] == {"0": "email", "1": "name"} and batch["key"] == ["email"]
    assert [b["id"] for b in admin.get(f"{BASE}/imports").json()] == [batch_id]
    assert wait(admin, admin.post(f"{url}/run").json()["job_id"])["state"] == "done"
    assert admin.get(f"{BASE}/records").json()["items"][0]["values"]["name"] == "髙橋①"

    # A refusal another encoding cannot cure (an empty file) is not kept.
    empty = admin.post(
        f"{BASE}/imports", params={"keep_refused": "true"}, files={"file": ("e.csv", b"")}
    )
    assert empty.status_code == 422 and "batch_id" not in empty.json()["errors"][0].get(
        "params", {}
    )
    assert len(list(runtime.settings.imports_dir.glob("*"))) == 1


def test_a_file_read_in_the_wrong_encoding_is_read_again_and_mapped_afresh(
    admin: StaffClient,
) -> None:
    make_table(admin)
    data = csv_bytes([["氏名", "メールアドレス"], ["山田", "a@example.com"]])  # UTF-8
    made = upload(admin, data, encoding="cp932")  # decodes, as mojibake
    assert made.status_code == 201, made.text
    url = f"{BASE}/imports/{made.json()['id']}"
    assert made.json()["header"][0] == "豌丞錐" and set(made.json()["mapping"].values()) == {None}
    refused = admin.patch(url, json={"encoding": "cp932x"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "encoding"
    read = admin.patch(url, json={"encoding": "utf-8"})
    assert read.status_code == 200, read.text
    batch = read.json()
    assert batch["header"] == ["氏名", "メールアドレス"] and batch["sample"] == [
        ["山田", "a@example.com"]
    ]
    assert batch["mapping"] == {"0": "name", "1": "email"} and batch["key"] == ["email"]
    assert batch["encoding"] == "utf-8"


def test_the_upload_limit_is_told(admin: StaffClient, runtime: Runtime) -> None:
    make_table(admin)
    answer = admin.get(f"{BASE}/imports/settings")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "max_bytes": runtime.settings.import_max_bytes,
        "encodings": ["auto", "utf-8", "cp932"],
        "formats": ["csv", "xlsx"],
    }
    assert admin.get("/api/customers/tables/nothing/imports/settings").status_code == 404


@pytest.mark.parametrize("mode", ["insert", "update", "upsert"])
def test_each_mode_through_the_api(admin: StaffClient, mode: str, actor: Principal) -> None:
    make_table(admin)
    admin.post(f"{BASE}/records", json={"values": {"email": "old@example.com", "name": "Old"}})
    data = csv_bytes([["email", "name"], ["OLD@example.com", "Changed"], ["new@example.com", "N"]])
    batch = upload(admin, data).json()
    url = f"{BASE}/imports/{batch['id']}"
    assert admin.patch(url, json={"mode": mode}).status_code == 200
    assert wait(admin, admin.post(f"{url}/run").json()["job_id"])["state"] == "done"
    result = admin.get(url).json()["result"]
    expected = {"insert": (1, 0, 1), "update": (0, 1, 1), "upsert": (1, 1, 0)}[mode]
    assert (result["created"], result["updated"], result["invalid"]) == expected
    assert imports.CHUNK > 0
