"""The polling watcher behind `kizuna build --watch`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pipeline.watch import changed_files, snapshot, watch


def test_snapshot_sees_added_changed_and_removed_files_but_not_hidden_ones(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.md").write_text("a", "utf-8")
    (tmp_path / "gone.md").write_text("x", "utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x", "utf-8")
    (tmp_path / ".a.md.swp").write_text("x", "utf-8")
    before = snapshot([tmp_path])
    assert sorted(Path(p).name for p in before) == ["a.md", "gone.md"]
    (tmp_path / "a.md").write_text("changed", "utf-8")
    (tmp_path / "gone.md").unlink()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "new.md").write_text("n", "utf-8")
    after = snapshot([tmp_path])
    assert [Path(p).name for p in changed_files(before, after)] == ["a.md", "gone.md", "new.md"]


def test_watch_calls_rebuild_once_per_settled_change_and_stops(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("one", "utf-8")
    stop = threading.Event()
    calls: list[list[str]] = []
    done = threading.Event()

    def rebuild(changes: list[str]) -> None:
        calls.append(changes)
        done.set()

    thread = threading.Thread(
        target=watch, args=([tmp_path], rebuild), kwargs={"interval": 0.05, "stop": stop}
    )
    thread.start()
    try:
        stop.wait(0.2)
        page.write_text("two, longer", "utf-8")
        os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns + 10**9))
        assert done.wait(10), "rebuild was not called"
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert calls == [[str(page)]]
