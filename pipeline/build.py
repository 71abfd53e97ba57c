"""Build the static site: `content/` + a theme -> `site/public` (web root) and `site/meta`.

`build_site()` runs Pelican in a child process (`python -m pipeline.build --in-process ...`):
Pelican's signals are process-global, so a second build in one process would still run the
first build's plugins, and a crash in a plugin or template cannot take the caller down. The child
writes into fresh temporary folders next to the targets; only when it reports success are they
renamed into place, so a failed build leaves the previous site untouched.

Every error Pelican logs (a page it skips, a date it cannot read) fails the build: a page that
silently goes missing is worse than a build that stops and says which file to fix. Warnings are
returned in `BuildResult.warnings`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pipeline.config import SITE_CONFIG_NAME, ConfigError, load_site_config
from pipeline.jsonfmt import dumps

# The folder that holds the `pipeline` package: put on the child's sys.path so the child runs
# the same code as the parent, installed or not.
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_RECORD_NAME = "build.json"
_STDERR_TAIL = 2000


class BuildError(Exception):
    """The build failed; the message says which file and what went wrong.

    `problems` holds each error on its own; `warnings` what was noticed before it failed.
    """

    def __init__(
        self, message: str, *, problems: Sequence[str] = (), warnings: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]
        self.warnings = list(warnings)


@dataclass(frozen=True)
class BuildResult:
    """What a successful build wrote."""

    pages: list[str]  # HTML files written, relative to output_dir, sorted
    seconds: float
    warnings: list[str] = field(default_factory=list)


def build_site(
    *,
    content_dir: Path,
    theme_dir: Path,
    output_dir: Path,
    meta_dir: Path,
    site_url: str | None = None,
    cache_dir: Path | None = None,
    member_fields: Mapping[str, str] | Sequence[str] | None = None,
    groups: Sequence[str] | None = None,
) -> BuildResult:
    """Build the site and swap it into `output_dir` / `meta_dir`; raise BuildError on failure.

    `site_url` overrides `site.url` of `content/site.toml` (e.g. for a staging host); "" means
    no absolute address is known (links are root-relative either way). `cache_dir` keeps
    Pelican's reader cache between builds (incremental: only changed Markdown is parsed again;
    e.g. `var/build-cache`). `member_fields` (the member table's field keys, or key -> field
    type) and `groups` (the groups there are), when given, make rules that name anything else
    a warning; the build itself needs no database.
    """
    started = time.monotonic()
    if site_url:
        _check_site_url(site_url)
    content_dir, theme_dir = content_dir.resolve(), theme_dir.resolve()
    output_dir, meta_dir = output_dir.resolve(), meta_dir.resolve()
    _check_folders(content_dir, theme_dir, output_dir, meta_dir)

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    meta_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_output = Path(tempfile.mkdtemp(prefix=f"{output_dir.name}.tmp-", dir=output_dir.parent))
    tmp_meta = Path(tempfile.mkdtemp(prefix=f"{meta_dir.name}.tmp-", dir=meta_dir.parent))
    try:
        # mkdtemp makes 0700 folders; the web server must be able to read the swapped-in tree.
        tmp_output.chmod(0o755)
        tmp_meta.chmod(0o755)
        members = None
        if member_fields is not None or groups is not None:
            members = {
                "fields": None
                if member_fields is None
                else (
                    dict(member_fields)
                    if isinstance(member_fields, Mapping)
                    else sorted(member_fields)
                ),
                "groups": None if groups is None else sorted(groups),
            }
        cache = _cache_folder(cache_dir.resolve(), content_dir) if cache_dir else None
        report = _run_child(content_dir, theme_dir, tmp_output, tmp_meta, site_url, cache, members)
        labels = _path_labels(content_dir, theme_dir, tmp_output, output_dir, tmp_meta, meta_dir)
        errors = [_relabel(e, labels) for e in report.get("errors", [])]
        warnings = [_relabel(w, labels) for w in report.get("warnings", [])]
        if errors or not report.get("ok"):
            errors = errors or ["the build stopped without saying why"]
            raise BuildError(_summary(errors), problems=errors, warnings=warnings)
        pages = _record_warnings(tmp_meta, warnings)
        with _swap_lock(output_dir):
            # Rules before files: a new gated page never appears before its rule does.
            _swap_in(tmp_meta, meta_dir)
            _swap_in(tmp_output, output_dir)
    finally:
        shutil.rmtree(tmp_output, ignore_errors=True)
        shutil.rmtree(tmp_meta, ignore_errors=True)
    return BuildResult(pages=pages, seconds=time.monotonic() - started, warnings=warnings)


def _cache_folder(cache_dir: Path, content_dir: Path) -> Path:
    """One cache per content folder and per version of the things that shape the reader's
    output (Pelican, Markdown, the reader settings in pelican_settings.py)."""
    import hashlib
    from importlib.metadata import version

    settings_source = Path(__file__).with_name("pelican_settings.py").read_bytes()
    stamp = "|".join(
        (
            str(content_dir),
            version("pelican"),
            version("markdown"),
            hashlib.sha256(settings_source).hexdigest(),
        )
    )
    return cache_dir / hashlib.sha256(stamp.encode()).hexdigest()[:16]


def _record_warnings(meta_dir: Path, warnings: list[str]) -> list[str]:
    """The admin shows the last build's warnings: keep them in build.json. Returns the HTML
    files the record lists, sorted (one reading of the record for both)."""
    path = meta_dir / _RECORD_NAME
    record = json.loads(path.read_text(encoding="utf-8"))
    record["warnings"] = warnings
    path.write_text(dumps(record), encoding="utf-8")
    return sorted(page["path"] for page in record["pages"])


def _check_folders(content_dir: Path, theme_dir: Path, output_dir: Path, meta_dir: Path) -> None:
    """Refuse layouts where swapping the output in would delete sources or serve meta."""
    if not content_dir.is_dir():
        raise BuildError(f"content folder not found: {content_dir}")
    if not (content_dir / SITE_CONFIG_NAME).is_file():
        raise BuildError(f"{content_dir.name}/{SITE_CONFIG_NAME}: file not found")
    if not (theme_dir / "templates").is_dir():
        raise BuildError(f"theme folder has no templates/: {theme_dir}")
    for target, what in ((output_dir, "output"), (meta_dir, "meta")):
        for source, source_what in ((content_dir, "content"), (theme_dir, "theme")):
            if _overlaps(target, source):
                raise BuildError(
                    f"the {what} folder {target} overlaps the {source_what} folder {source}; "
                    "a build replaces its output folders completely"
                )
    if _overlaps(output_dir, meta_dir):
        raise BuildError(
            f"the meta folder {meta_dir} must be outside the output folder {output_dir} "
            "(meta is never served)"
        )


def _check_site_url(site_url: str) -> None:
    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise BuildError(
            f"site_url {site_url!r} is not a site address "
            '(e.g. "https://www.example.jp"; "" for root-relative links only)'
        )


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def _run_child(
    content_dir: Path,
    theme_dir: Path,
    output_dir: Path,
    meta_dir: Path,
    site_url: str | None,
    cache_dir: Path | None,
    members: dict[str, Any] | None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kizuna-build-") as scratch:
        report_path = Path(scratch) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pipeline.build",
            "--in-process",
            "--report",
            str(report_path),
            "--content",
            str(content_dir),
            "--theme",
            str(theme_dir),
            "--output",
            str(output_dir),
            "--meta",
            str(meta_dir),
        ]
        if site_url is not None:
            command += ["--site-url", site_url]
        if cache_dir is not None:
            command += ["--cache", str(cache_dir)]
        if members is not None:
            members_path = Path(scratch) / "members.json"
            members_path.write_text(json.dumps(members, ensure_ascii=False), encoding="utf-8")
            command += ["--members", str(members_path)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_SOURCE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        env.update({"NO_COLOR": "1", "TERM": "dumb", "PYTHONIOENCODING": "utf-8"})
        completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            check=False,
        )
        try:
            report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = (completed.stderr or completed.stdout or "").strip()[-_STDERR_TAIL:]
            raise BuildError(
                f"the build process failed (exit status {completed.returncode})"
                + (f":\n{tail}" if tail else "")
            ) from None
        return report


@contextlib.contextmanager
def _swap_lock(output_dir: Path) -> Iterator[None]:
    """Serialise the renames of two builds that finish at the same time."""
    lock_path = output_dir.parent / f".{output_dir.name}.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _swap_in(new: Path, target: Path) -> None:
    """Put `new` where `target` is with two renames; the old tree is removed afterwards."""
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f"{target.name}.old-{secrets.token_hex(4)}")
        target.rename(old)
    try:
        new.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _path_labels(
    content_dir: Path,
    theme_dir: Path,
    tmp_output: Path,
    output_dir: Path,
    tmp_meta: Path,
    meta_dir: Path,
) -> list[tuple[str, str]]:
    """Absolute paths in messages -> the short names editors know ("content/news/x.md")."""
    return [
        (f"{content_dir}{os.sep}", f"{content_dir.name}/"),
        (str(content_dir), content_dir.name),
        (f"{theme_dir}{os.sep}", f"{theme_dir.parent.name}/{theme_dir.name}/"),
        (str(tmp_output), str(output_dir)),
        (str(tmp_meta), str(meta_dir)),
    ]


def _relabel(message: str, labels: list[tuple[str, str]]) -> str:
    for old, new in labels:
        message = message.replace(old, new)
    return message


def _summary(errors: list[str]) -> str:
    """All problems, one a line: each names its file, so editors can fix them in one go."""
    return "\n".join(errors)


# --- the child process -------------------------------------------------------------------------


class _Collector(logging.Handler):
    """Keep Pelican's warnings and errors, so the parent can report them."""

    def __init__(self, content_dir: Path) -> None:
        super().__init__(level=logging.WARNING)
        self.content_dir = content_dir
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = self._message(record)
        if record.levelno >= logging.ERROR:
            # Pelican logs "Could not process x.md" from inside its `except` block but leaves
            # out the exception unless DEBUG is on; the exception says what is wrong.
            exc = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
            if exc is not None and str(exc) not in message:
                message = f"{message}: {_describe_exception(exc)}"
            self.errors.append(message)
        else:
            self.warnings.append(message)

    def _message(self, record: logging.LogRecord) -> str:
        """The message, with content paths Pelican gives relative to content/ made absolute
        (the parent then shortens every absolute path to "content/...")."""
        if isinstance(record.args, tuple) and record.args:
            args = tuple(
                str(self.content_dir / arg)
                if isinstance(arg, str)
                and arg
                and not os.path.isabs(arg)
                and (self.content_dir / arg).is_file()
                else arg
                for arg in record.args
            )
            try:
                return str(record.msg) % args
            except (TypeError, ValueError):
                pass
        return record.getMessage()


def _describe_exception(exc: BaseException) -> str:
    """One line naming the template file and line where possible (Jinja errors)."""
    text = str(exc) or type(exc).__name__
    filename = getattr(exc, "filename", None)
    lineno = getattr(exc, "lineno", None)
    if filename and lineno:
        return f"{filename}, line {lineno}: {text}"
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".j2")):
            return f"{frame.filename}, line {frame.lineno}: {type(exc).__name__}: {text}"
    # ValueError messages (bad dates, bad settings) are meant for people; other types help.
    return text if type(exc) is ValueError else f"{type(exc).__name__}: {text}"


def run_pelican(
    *,
    content_dir: Path,
    theme_dir: Path,
    output_dir: Path,
    meta_dir: Path,
    site_url: str | None,
    cache_dir: Path | None = None,
    members: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one Pelican build in this process and return the report for the parent.

    Only for the child process: it registers Pelican signal handlers for good.
    """
    collector = _Collector(content_dir)
    report: dict[str, Any] = {
        "ok": False,
        "errors": collector.errors,
        "warnings": collector.warnings,
    }
    try:
        config = load_site_config(content_dir / SITE_CONFIG_NAME)
    except ConfigError as exc:
        collector.errors.append(str(exc))
        return report

    # Imported here so that importing pipeline.build (the parent side) stays light.
    from pelican import Pelican
    from pelican.settings import read_settings

    from pipeline.pelican_settings import pelican_settings

    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    root.addHandler(collector)
    try:
        settings = read_settings(
            None,
            override=pelican_settings(
                config,
                content_dir=content_dir,
                theme_dir=theme_dir,
                output_dir=output_dir,
                meta_dir=meta_dir,
                site_url=site_url,
                cache_dir=cache_dir,
                member_fields=(members or {}).get("fields"),
                groups=(members or {}).get("groups"),
            ),
        )
        Pelican(settings).run()
    except Exception as exc:
        collector.errors.append(_describe_exception(exc))
    finally:
        root.removeHandler(collector)
    report["ok"] = not collector.errors
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build like `build_site` (default) or, with --in-process, be the child."""
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.build", description="Build the Kizuna static site."
    )
    parser.add_argument("--content", type=Path, default=Path("content"))
    parser.add_argument("--theme", type=Path, default=Path("themes/default"))
    parser.add_argument("--output", type=Path, default=Path("site/public"))
    parser.add_argument("--meta", type=Path, default=Path("site/meta"))
    parser.add_argument("--site-url", default=None)
    parser.add_argument("--cache", type=Path, default=None, help="reader cache folder")
    parser.add_argument(
        "--members",
        type=Path,
        default=None,
        help='JSON {"fields": [...] or {key: type}, "groups": [...]}: warn about other names',
    )
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    members = (
        json.loads(args.members.read_text(encoding="utf-8")) if args.members is not None else None
    )
    if args.in_process:
        report = run_pelican(
            content_dir=args.content,
            theme_dir=args.theme,
            output_dir=args.output,
            meta_dir=args.meta,
            site_url=args.site_url,
            cache_dir=args.cache,
            members=members,
        )
        text = json.dumps(report, ensure_ascii=False)
        if args.report is not None:
            args.report.write_text(text, encoding="utf-8")
        else:
            print(text)
        return 0 if report["ok"] else 1

    try:
        result = build_site(
            content_dir=args.content,
            theme_dir=args.theme,
            output_dir=args.output,
            meta_dir=args.meta,
            site_url=args.site_url,
            cache_dir=args.cache,
            member_fields=(members or {}).get("fields"),
            groups=(members or {}).get("groups"),
        )
    except BuildError as exc:
        for problem in exc.warnings:
            print(f"warning: {problem}", file=sys.stderr)
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"warning: {warning}")
    print(f"built {len(result.pages)} pages into {args.output} in {result.seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
