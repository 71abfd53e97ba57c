"""Mail transport throughput: SmtpTransport.send_many vs. raw smtplib, into an aiosmtpd sink.

    .venv/bin/python bench/mail_transport.py [--count 2000] [--rounds 3] [--no-outbox]

Builds ``--count`` ~20 KB Japanese newsletters (text + HTML) with ``build_message``, starts an
aiosmtpd sink on 127.0.0.1 in a subprocess (so it does not share the sender's GIL), then, for
each round, delivers them all over one connection twice: with our ``SmtpTransport.send_many``
and with the peer, plain ``smtplib.SMTP.send_message`` in a loop. Both start from the same
``EmailMessage`` objects (flattened once beforehand, which fixes their MIME boundaries), so
both pay the same serialisation cost. Prints, per round (the order alternates), msgs/s and
the sender's CPU time per message, then the best of each and the ratios ours/peer; the
sink's count is checked after each run. CPU time per message is the steadier figure on a
busy machine: wall-clock rates move with whatever else runs. Optionally also times the dev
outbox (files into a temporary folder). Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ the sink


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.count += 1
        return "250 OK"


def serve_sink() -> None:
    """Subprocess side: print the port, answer "count" on stdin, exit at EOF."""
    from aiosmtpd.smtp import SMTP

    async def main() -> None:
        loop = asyncio.get_running_loop()
        counter = _Counter()
        server = await loop.create_server(
            lambda: SMTP(counter, hostname="bench-sink", enable_SMTPUTF8=True, loop=loop),
            "127.0.0.1",
            0,
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        done = asyncio.Event()

        def read_commands() -> None:
            for line in sys.stdin:
                if line.strip() == "count":
                    print(counter.count, flush=True)
            loop.call_soon_threadsafe(done.set)

        threading.Thread(target=read_commands, daemon=True).start()
        await done.wait()
        server.close()

    asyncio.run(main())


class Sink:
    """The parent's handle on the sink subprocess."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-sink"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self._stdout.readline())

    @property
    def _stdout(self) -> IO[str]:
        assert self.process.stdout is not None
        return self.process.stdout

    def count(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self._stdout.readline())

    def wait_for(self, total: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (got := self.count()) < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"sink received {got} of {total} messages")
            time.sleep(0.01)

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


# ------------------------------------------------------------------------------ messages


def build_messages(count: int, size: int = 20_000) -> list[EmailMessage]:
    from api.mail.messages import build_message, sender_address

    paragraph = (
        "平素より格別のご高配を賜り、厚く御礼申し上げます。新製品「絆クラウド」の提供開始に"
        "あわせ、オンライン説明会を開催いたします。ご多用中とは存じますが、ぜひご参加ください。\n"
    )
    text = paragraph * 12
    block = (
        '<tr><td style="padding:16px;font-family:sans-serif;font-size:15px;line-height:1.8">'
        f"{paragraph}"
        '<a href="https://example.jp/t/c/0123456789abcdef?u=https%3A%2F%2Fexample.jp%2Fproduct-a">'
        "詳しくはこちら</a></td></tr>\n"
    )

    def make(n: int, blocks: int) -> EmailMessage:
        return build_message(
            sender=sender_address("絆 マーケティング部", "news@example.jp"),
            to=sender_address(f"顧客 {n} 様", f"customer{n}@example.jp"),
            subject=f"【ご案内】新製品「絆クラウド」オンライン説明会のお知らせ（{n}）",
            text=text,
            html=f"<html><body><table>{block * blocks}</table></body></html>",
            headers={"List-Unsubscribe": f"<https://example.jp/u/{n:08d}>"},
        )

    blocks = 1
    while len(make(0, blocks).as_bytes()) < size:
        blocks += 1
    messages = [make(n, blocks) for n in range(count)]
    for message in messages:  # the first flatten picks the MIME boundaries: keep it untimed
        message.as_bytes()
    return messages


# ------------------------------------------------------------------------------ runs


Timing = tuple[float, float]  # wall seconds, sender CPU seconds


def run_ours(port: int, messages: list[EmailMessage]) -> Timing:
    from api.mail.transport import SmtpTransport

    start, cpu = time.perf_counter(), time.process_time()
    with SmtpTransport(f"smtp://127.0.0.1:{port}") as transport:
        results = transport.send_many(messages)
    timing = (time.perf_counter() - start, time.process_time() - cpu)
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{len(failed)} messages failed, first: {failed[0]}")
    return timing


def run_peer(port: int, messages: list[EmailMessage]) -> Timing:
    start, cpu = time.perf_counter(), time.process_time()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for message in messages:
            smtp.send_message(message)
    return time.perf_counter() - start, time.process_time() - cpu


def run_outbox(messages: list[EmailMessage]) -> Timing:
    from api.mail.transport import OutboxTransport

    with tempfile.TemporaryDirectory(prefix="kizuna-bench-outbox-") as folder:
        transport = OutboxTransport(Path(folder))
        start, cpu = time.perf_counter(), time.process_time()
        results = transport.send_many(messages)
        timing = (time.perf_counter() - start, time.process_time() - cpu)
        assert all(r.ok for r in results)
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="messages per run (2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of ours + peer (3)")
    parser.add_argument("--no-outbox", action="store_true", help="skip the dev outbox run")
    parser.add_argument("--serve-sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sink:
        serve_sink()
        return
    sys.path.insert(0, str(ROOT))

    messages = build_messages(args.count)
    gc.collect()
    gc.freeze()  # the messages live all run long: keep the collector from rescanning them
    average = statistics.mean(len(m.as_bytes()) for m in messages[:50])
    print(f"{args.count} messages of ~{average / 1000:.1f} KB, sink: aiosmtpd in a subprocess")
    sink = Sink()
    try:
        run_ours(sink.port, messages[:50])  # warm up both paths and the sink
        run_peer(sink.port, messages[:50])
        delivered = sink.count()
        rates: dict[str, list[float]] = {"ours": [], "peer": []}
        cpus: dict[str, list[float]] = {"ours": [], "peer": []}
        for round_ in range(1, args.rounds + 1):
            runs = [("ours", run_ours), ("peer", run_peer)]
            for name, runner in runs if round_ % 2 else reversed(runs):  # alternate the order
                wall, cpu = runner(sink.port, messages)
                delivered += len(messages)
                sink.wait_for(delivered)
                rates[name].append(len(messages) / wall)
                cpus[name].append(cpu / len(messages) * 1e6)
                print(
                    f"round {round_}  {name}: {rates[name][-1]:5.0f} msgs/s ({wall:5.2f} s), "
                    f"sender CPU {cpus[name][-1]:5.0f} us/msg"
                )
    finally:
        sink.stop()
    best_rate = {name: max(values) for name, values in rates.items()}
    best_cpu = {name: min(values) for name, values in cpus.items()}
    print(
        f"best ours (SmtpTransport.send_many): {best_rate['ours']:5.0f} msgs/s, "
        f"{best_cpu['ours']:5.0f} us CPU/msg"
    )
    print(
        f"best peer (smtplib send_message):    {best_rate['peer']:5.0f} msgs/s, "
        f"{best_cpu['peer']:5.0f} us CPU/msg"
    )
    print(
        f"ratio ours/peer: throughput {best_rate['ours'] / best_rate['peer']:.2f}, "
        f"CPU per message {best_cpu['ours'] / best_cpu['peer']:.2f} (lower is better)"
    )
    if not args.no_outbox:
        wall, cpu = run_outbox(messages)
        print(
            f"outbox (OutboxTransport, tmp folder): {len(messages) / wall:5.0f} msgs/s, "
            f"{cpu / len(messages) * 1e6:5.0f} us CPU/msg"
        )


if __name__ == "__main__":
    main()
