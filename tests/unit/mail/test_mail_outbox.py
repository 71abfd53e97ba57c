"""The dev outbox: OutboxTransport writes, api.mail.outbox reads it back for the admin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from api.errors import NotFound, ValidationFailed
from api.mail import outbox
from api.mail.messages import build_message, sender_address
from api.mail.transport import (
    MailTransport,
    OutboxTransport,
    SmtpTransport,
    transport_from_settings,
)
from api.settings import PROJECT_ROOT, Settings

NAME = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{16}\.eml$")


def message(n: int = 1, **kwargs: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "sender": sender_address("絆 事務局", "info@example.jp"),
        "to": f"顧客 {n} <customer{n}@example.jp>",
        "subject": f"ご案内 その{n}",
        "text": f"本文 {n}\n",
        "html": f"<p>本文 {n}</p>",
    }
    args.update(kwargs)
    return build_message(**args)  # type: ignore[arg-type]


def test_send_writes_one_eml_file_atomically(tmp_path: Path) -> None:
    box = tmp_path / "var" / "outbox"  # created on first send
    with OutboxTransport(box) as transport:
        assert isinstance(transport, MailTransport)
        result = transport.send(message(cc=["cc@example.jp"]))
    files = os.listdir(box)
    assert len(files) == 1
    assert NAME.match(files[0]), files
    assert result.ok
    assert result.accepted == ("customer1@example.jp", "cc@example.jp")
    assert result.message_id.endswith("@example.jp>")


def test_list_read_raw_and_clear(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path)
    results = transport.send_many([message(n) for n in range(1, 6)])
    assert all(r.ok for r in results)

    page, total = outbox.list_messages(tmp_path, offset=0, limit=2)
    assert total == 5
    assert [s.subject for s in page] == ["ご案内 その5", "ご案内 その4"]  # newest first
    assert page[0].to == ["顧客 5 <customer5@example.jp>"]
    assert page[0].sender == "絆 事務局 <info@example.jp>"
    assert page[0].size > 0
    assert page[0].at.tzinfo is not None
    rest, _ = outbox.list_messages(tmp_path, offset=2, limit=50)
    assert [s.subject for s in rest] == ["ご案内 その3", "ご案内 その2", "ご案内 その1"]

    full = outbox.read_message(tmp_path, page[0].id)
    assert full.subject == "ご案内 その5"
    assert full.text == "本文 5\n"
    assert full.html == "<p>本文 5</p>\n"
    assert ("Subject", "ご案内 その5") in full.headers
    assert any(name == "Message-ID" for name, _ in full.headers)
    raw = outbox.raw_message(tmp_path, page[0].id)
    assert len(raw) == full.size == page[0].size
    assert raw.startswith(b"From: ")

    assert outbox.clear(tmp_path) == 5
    assert outbox.list_messages(tmp_path) == ([], 0)
    with pytest.raises(NotFound):
        outbox.read_message(tmp_path, page[0].id)


def test_missing_directory_lists_nothing(tmp_path: Path) -> None:
    assert outbox.list_messages(tmp_path / "nope") == ([], 0)
    assert outbox.clear(tmp_path / "nope") == 0


def test_bcc_stays_visible_in_the_outbox(tmp_path: Path) -> None:
    mail = message()
    mail["Bcc"] = "hidden@example.jp"
    result = OutboxTransport(tmp_path).send(mail)
    assert "hidden@example.jp" in result.accepted
    (summary,), _ = outbox.list_messages(tmp_path)
    assert ("Bcc", "hidden@example.jp") in outbox.read_message(tmp_path, summary.id).headers


@pytest.mark.parametrize(
    "bad_id",
    [
        "../secret",
        "../../etc/passwd",
        "/etc/passwd",
        "20250101T000000000000Z-0123456789abcdef/../../x",
        "20250101T000000000000Z-0123456789abcdef\x00",
        "20250101T000000000000Z-0123456789ABCDEF",
        "",
        "20250101T000000000000Z-0123456789abcdef",  # well-formed but absent
    ],
)
def test_ids_cannot_escape_the_folder(tmp_path: Path, bad_id: str) -> None:
    box = tmp_path / "outbox"
    OutboxTransport(box).send(message())
    (tmp_path / "secret.eml").write_bytes(b"Subject: secret\r\n\r\nx")
    with pytest.raises(NotFound):
        outbox.read_message(box, bad_id)
    with pytest.raises(NotFound):
        outbox.raw_message(box, bad_id)


def test_corrupt_and_non_utf8_files_do_not_break_the_viewer(tmp_path: Path) -> None:
    OutboxTransport(tmp_path).send(message())
    stem = "20000101T000000000000Z-00000000000000"
    junk = {
        f"{stem}01": b"\xff\xfe\x00garbage\x80\x81 no headers at all",
        f"{stem}02": "Subject: 件名 raw UTF-8\r\nFrom: 山田 <a@example.jp>\r\n\r\n本文".encode(),
        f"{stem}03": b'Subject: \x93\xfa\x96\x7b\r\nTo: <<<@@>>>, "unterminated\r\n\r\nbody',
        f"{stem}04": b"Content-Type: text/plain; charset=x-unknown\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        f"{stem}05": b"",
    }
    for stem_id, data in junk.items():
        (tmp_path / f"{stem_id}.eml").write_bytes(data)
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".20990101T000000000000Z-0000000000000000.eml.abcd.tmp").write_bytes(b"partial")

    page, total = outbox.list_messages(tmp_path)
    assert total == 6
    by_id = {s.id: s for s in page}
    assert by_id[f"{stem}02"].subject == "件名 raw UTF-8"
    for summary in page:  # everything is valid, serialisable text
        for text in (summary.subject, summary.sender, *summary.to):
            text.encode("utf-8")
    for stem_id in junk:
        full = outbox.read_message(tmp_path, stem_id)
        for text in (full.subject, full.text, full.html or "", *(v for _, v in full.headers)):
            text.encode("utf-8")
    assert outbox.read_message(tmp_path, f"{stem}02").text == "本文"


def test_paging_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed):
        outbox.list_messages(tmp_path, offset=-1)
    with pytest.raises(ValidationFailed):
        outbox.list_messages(tmp_path, limit=0)
    with pytest.raises(ValidationFailed):
        outbox.list_messages(tmp_path, limit=10_000)


def test_concurrent_writes_from_threads(tmp_path: Path) -> None:
    transport = OutboxTransport(tmp_path / "box")
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for n in range(25):
                transport.send(message(worker * 100 + n))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = os.listdir(tmp_path / "box")
    assert len(names) == 200
    assert all(NAME.match(n) for n in names)  # no temp files left behind
    page, total = outbox.list_messages(tmp_path / "box", limit=500)
    assert total == 200
    assert len({s.subject for s in page}) == 200


def test_concurrent_writes_from_processes(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from api.mail.messages import build_message\n"
        "from api.mail.transport import OutboxTransport\n"
        "t = OutboxTransport(Path(sys.argv[1]))\n"
        "for n in range(30):\n"
        "    t.send(build_message(sender='a@example.jp', to='b@example.jp',\n"
        "                         subject=f'{sys.argv[2]}-{n}', text='x'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(w)], env=env)
        for w in range(3)
    ]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0]
    page, total = outbox.list_messages(tmp_path, limit=500)
    assert total == 90
    assert len({s.subject for s in page}) == 90


def test_transport_from_settings_picks_outbox_or_smtp(tmp_path: Path) -> None:
    dev = Settings(var_dir=tmp_path, smtp_url="")
    transport = transport_from_settings(dev)
    assert isinstance(transport, OutboxTransport)
    assert transport.directory == tmp_path / "outbox"
    prod = Settings(var_dir=tmp_path, smtp_url="smtp+starttls://u:p@smtp.example.jp")
    smtp = transport_from_settings(prod)  # no connection is made until the first send
    assert isinstance(smtp, SmtpTransport)
    assert smtp.where == "smtp.example.jp:587"
