"""`kizuna build` with the Kizuna plugins against plain Pelican on the same generated content.

    .venv/bin/python bench/build.py [--pages 1000] [--rounds 3] [--gated 0.2] [--keep DIR]
        [--instructions]

Generates ``--pages`` Markdown files (about 500 words of Japanese and English each: 80% news
articles, 20% pages; a ``--gated`` share of them members-only, group-only or attribute-gated
through ``Access:`` metadata and a folder default; a few gated PDFs), then per round, in
alternating order:

- **ours**: ``pipeline.build.build_site`` as ``kizuna build`` runs it (a child process running
  Pelican with every Kizuna plugin: access manifest, teasers, special pages, content index,
  nginx map, leak check, build record; then the atomic switch), cold (no reader cache);
- **peer**: plain Pelican in a child process with the same settings, theme and content but
  ``PLUGINS = []``, none of them imported (what the site costs without anything of ours), cold.

It prints each run, the best of each and the ratio ours/peer (target: at most 1.15), then the
**rebuild after editing one page**: a build with the reader cache (``var/build-cache`` in
``kizuna build``) warmed, one page's text changed, built again — ours and, for reference,
plain Pelican with the same cache settings. Temporary folders are removed unless ``--keep``.
With ``--instructions`` (needs valgrind) it also counts the instructions of one child of each
under cachegrind: slow (about a minute) but steady when other work loads the machine.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.build import build_site  # noqa: E402 - after the path is set

THEME = ROOT / "themes" / "default"

SITE_TOML = """[site]
name = "株式会社ベンチ"
name_en = "Bench Inc."
url = "https://bench.example.jp"

[[menu.main]]
title = "ホーム"
url = "/"

[[menu.main]]
title = "お知らせ"
url = "/news/"

[access]
"members/**" = "members"
"members/doctors/**" = "group:doctors"
"""

WORDS_JA = (  # noqa: SIM905 - a sentence of words reads better than a list literal
    "分析機器 消耗品 定期点検 試料 前処理 検査室 研究所 大学 病院 セミナー 担当者 導入 "
    "保守 校正 標準液 測定 結果 報告 品質 管理 安全 手順 記録 温度 保管 廃棄 回収"
).split()
WORDS_EN = (  # noqa: SIM905
    "instrument sample reagent calibration laboratory routine inspection storage "
    "temperature record result report quality safety procedure member seminar support"
).split()
GATED_RULES = ("members", "group:doctors", 'plan in ("gold", "platinum")', 'specialty == "x"')


def paragraph(rng: random.Random, words: int) -> str:
    if rng.random() < 0.7:
        parts = [rng.choice(WORDS_JA) for _ in range(words // 2)]
        return "、".join("".join(parts[i : i + 3]) for i in range(0, len(parts), 3)) + "。"
    return " ".join(rng.choice(WORDS_EN) for _ in range(words)).capitalize() + "."


def generate(content: Path, pages: int, gated_share: float, seed: int = 17) -> list[Path]:
    """Write the bench site's content; return the Markdown files."""
    rng = random.Random(seed)
    (content / "news").mkdir(parents=True)
    (content / "pages" / "members" / "doctors" / "files").mkdir(parents=True)
    (content / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    (content / "pages" / "index.md").write_text(
        "Title: ホーム\nSave_as: index.html\nURL:\nTemplate: home\n\nベンチ用のサイトです。\n",
        encoding="utf-8",
    )
    for n in range(10):
        pdf = b"%PDF-1.4\n% bench attachment " + str(n).encode() + b"\n%%EOF\n"
        (content / "pages" / "members" / "doctors" / "files" / f"doc-{n}.pdf").write_bytes(pdf)
    files: list[Path] = []
    for n in range(pages):
        gated = rng.random() < gated_share
        body = "\n\n".join(
            (f"## 見出し {k}\n\n" if k % 3 == 0 else "") + paragraph(rng, 40) for k in range(12)
        )
        head = f"Title: ベンチのページ {n} / Bench page {n}\n"
        if n % 5 == 0:  # a page
            folder = content / "pages" / ("members/doctors" if gated and n % 2 else "misc")
            if gated and not n % 2:
                head += f"Access: {rng.choice(GATED_RULES)}\n"
            if gated and n % 2 and n % 50 < 10:
                body += f"\n\n[資料 PDF]({{attach}}files/doc-{n % 10}.pdf)\n"
            path = folder / f"page-{n}.md"
        else:  # a news article
            day = f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}"
            if gated:
                head += f"Access: {rng.choice(GATED_RULES)}\n"
                head += f"Teaser: {rng.choice(('title', 'summary', 'none'))}\n"
            path = content / "news" / f"{day}-bench-{n}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(head + "\n" + body + "\n", encoding="utf-8")
        files.append(path)
    return files


# --- the peer: plain Pelican in a child process ---------------------------------------------


def peer_child(args: argparse.Namespace) -> None:
    """Child side: Pelican with Kizuna's settings but no plugins."""
    from pelican import Pelican
    from pelican.settings import read_settings

    from pipeline.config import load_site_config
    from pipeline.pelican_settings import pelican_settings

    config = load_site_config(args.content / "site.toml")
    settings = pelican_settings(
        config,
        content_dir=args.content,
        theme_dir=THEME,
        output_dir=args.output,
        meta_dir=args.output.parent / "meta-unused",
        cache_dir=args.cache,
        with_plugins=False,  # nor are they imported
    )
    Pelican(read_settings(None, override=settings)).run()


Run = tuple[float, float, float]  # wall-clock, user CPU and system CPU seconds


def _children_cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def _own_cpu() -> tuple[float, float]:
    times = os.times()
    return times.user, times.system


def run_peer(content: Path, output: Path, cache: Path | None = None) -> Run:
    """Wall-clock seconds, user and system CPU seconds of the build (the child's CPU: steadier
    on a busy machine than the wall clock)."""
    command = [sys.executable, __file__, "--peer-child", "--content", str(content)]
    command += ["--output", str(output)]
    if cache is not None:
        command += ["--cache", str(cache)]
    (user, system), start = _children_cpu(), time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    user_after, system_after = _children_cpu()
    return time.perf_counter() - start, user_after - user, system_after - system


def run_ours(content: Path, site: Path, cache: Path | None = None) -> Run:
    """Wall-clock seconds, user and system CPU seconds (the child's, plus this process's for
    the swap)."""
    (user, system), (own_user, own_system) = _children_cpu(), _own_cpu()
    start = time.perf_counter()
    build_site(
        content_dir=content,
        theme_dir=THEME,
        output_dir=site / "public",
        meta_dir=site / "meta",
        cache_dir=cache,
    )
    wall = time.perf_counter() - start
    (user_after, system_after), (own_user_after, own_system_after) = _children_cpu(), _own_cpu()
    return (
        wall,
        user_after - user + own_user_after - own_user,
        system_after - system + own_system_after - own_system,
    )


def count_instructions(content: Path, scratch: Path) -> None:
    """Instructions (user space) of ours' child and the peer's, counted by valgrind's
    cachegrind: unlike CPU time, not moved by what else the machine runs. Ours is the child
    process `build_site` starts (the same command line), without the parent's swap."""
    counted: dict[str, int] = {}
    for which in ("ours", "peer"):
        folder = Path(tempfile.mkdtemp(prefix=f"{which}-", dir=scratch))
        if which == "ours":
            child = ["-m", "pipeline.build", "--in-process", "--report", str(folder / "r.json")]
            child += ["--content", str(content), "--theme", str(THEME)]
            child += ["--output", str(folder / "public"), "--meta", str(folder / "meta")]
        else:
            child = [__file__, "--peer-child", "--content", str(content)]
            child += ["--output", str(folder / "public")]
        command = ["valgrind", "--tool=cachegrind", "--cache-sim=no"]
        command += [f"--cachegrind-out-file={folder / 'cachegrind.out'}", sys.executable, *child]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if found is None:
            raise SystemExit(f"no instruction count from valgrind:\n{done.stderr[-2000:]}")
        counted[which] = int(found.group(1).replace(",", ""))
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"  instructions (valgrind): ours {counted['ours'] / 1e9:.2f} G, peer"
        f" {counted['peer'] / 1e9:.2f} G, ratio {counted['ours'] / counted['peer']:.3f}"
    )


def edit(page: Path, round_no: int) -> None:
    text = page.read_text(encoding="utf-8")
    page.write_text(text + f"\n編集 {round_no} 回目の追記です。\n", encoding="utf-8")


def report(label: str, runs: list[Run]) -> None:
    wall, cpu = min(r[0] for r in runs), min(r[1] + r[2] for r in runs)
    user, system = min(r[1] for r in runs), min(r[2] for r in runs)
    print(
        f"  {label:<48} best {wall:6.2f} s   cpu {cpu:5.2f} s (user {user:5.2f} s, system "
        f"{system:5.2f} s)"
    )


def ratio(label: str, ours: list[Run], peer: list[Run], note: str) -> None:
    wall = min(r[0] for r in ours) / min(r[0] for r in peer)
    cpu = min(r[1] + r[2] for r in ours) / min(r[1] + r[2] for r in peer)
    user = min(r[1] for r in ours) / min(r[1] for r in peer)
    print(f"  ratio {label}: wall {wall:.2f}, cpu {cpu:.2f}, user cpu {user:.2f} ({note})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gated", type=float, default=0.2, help="share of gated pages")
    parser.add_argument("--keep", type=Path, default=None, help="build here and keep it")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the two children's instructions under valgrind (slow, steady)",
    )
    parser.add_argument("--peer-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--content", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer_child:
        peer_child(args)
        return

    # Byte-compile our modules as an installed package has them (Pelican's come compiled from
    # its wheel): with PYTHONDONTWRITEBYTECODE set, every build child would otherwise compile
    # api/ and pipeline/ from source.
    for package in ("api", "pipeline"):
        compileall.compile_dir(ROOT / package, quiet=1)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="kizuna-bench-build-"))
    try:
        content = scratch / "content"
        shutil.rmtree(content, ignore_errors=True)
        files = generate(content, args.pages, args.gated)
        print(f"{args.pages} pages ({args.gated:.0%} gated), {args.rounds} rounds, cold builds")
        ours: list[Run] = []
        peer: list[Run] = []
        for round_no in range(args.rounds):
            order = ("ours", "peer") if round_no % 2 == 0 else ("peer", "ours")
            for which in order:
                if which == "ours":
                    ours.append(run_ours(content, scratch / "ours"))
                else:  # cold as ours: into an empty folder (not over the last round's)
                    shutil.rmtree(scratch / "peer", ignore_errors=True)
                    peer.append(run_peer(content, scratch / "peer" / "public"))
            print(
                f"  round {round_no + 1}: ours {ours[-1][0]:6.2f} s (user {ours[-1][1]:5.2f} s,"
                f" system {ours[-1][2]:5.2f} s)   peer {peer[-1][0]:6.2f} s (user"
                f" {peer[-1][1]:5.2f} s, system {peer[-1][2]:5.2f} s)"
            )
        manifest = json.loads((scratch / "ours" / "meta" / "access.json").read_text("utf-8"))
        gated = sum(1 for e in manifest["entries"].values() if e["rule"] != "public")
        print(f"  (manifest: {len(manifest['entries'])} entries, {gated} gated)")
        report("ours: kizuna build (all plugins, child, swap)", ours)
        report("peer: plain Pelican, same content, no plugins", peer)
        ratio("ours/peer", ours, peer, "target <= 1.15")
        if args.instructions:
            count_instructions(content, scratch)

        print("rebuild after editing one page (reader cache warm)")
        cache_ours, cache_peer = scratch / "cache-ours", scratch / "cache-peer"
        run_ours(content, scratch / "ours", cache_ours)
        run_peer(content, scratch / "peer" / "public", cache_peer)
        page = files[len(files) // 2]
        rebuild_ours: list[Run] = []
        rebuild_peer: list[Run] = []
        for round_no in range(args.rounds):
            edit(page, round_no)
            rebuild_ours.append(run_ours(content, scratch / "ours", cache_ours))
            edit(page, round_no + 100)
            rebuild_peer.append(run_peer(content, scratch / "peer" / "public", cache_peer))
        report("ours: kizuna build, one page edited", rebuild_ours)
        report("peer: plain Pelican with the same cache", rebuild_peer)
        ratio("ours/peer", rebuild_ours, rebuild_peer, "for reference")
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
