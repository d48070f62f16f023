"""Python clients calling a Rust server: calls per second of echo (see docs/benchmarks.md).

Run from anywhere with the repository's venv:

    .venv/bin/python tests/python/bench/client_bench.py [--rounds 3] [--seconds 2] [--calls 50000]

It builds `bench-server` (the rpcgen runtime serving bench/'s echo service, release profile),
generates the Python client of `bench.rpc` into a temporary folder, starts the server on 127.0.0.1
and measures, each client in a fresh process of its own and taking turns round by round:

- the generated client (`BenchClient`, and `AsyncBenchClient` with 32 concurrent asyncio callers),
- the bare rpcgen runtime (`Client.call`, untyped), to show what the typed layer costs,
- zerorpc-python's client (with 32 gevent greenlets for the concurrent case),

all against the same server. Each round stops after `--calls` calls or `--seconds` seconds; the
table shows each client's median round and its CPU time per call (all its threads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
TEXT = "hello, rpcgen"
"""The echoed string: the same as runtime-bench's."""
CONCURRENT_CALLERS = 32
WARM_UP_CALLS = 500

# (client, callers) in the order of the table.
MATRIX = [
    ("generated", 1),
    ("runtime", 1),
    ("zerorpc", 1),
    ("generated", CONCURRENT_CALLERS),
    ("runtime", CONCURRENT_CALLERS),
    ("zerorpc", CONCURRENT_CALLERS),
]
LABELS = {
    "generated": "generated client (rpcgen)",
    "runtime": "rpcgen runtime, untyped `call`",
    "zerorpc": "zerorpc-python client 0.6.3",
}


class Budget:
    """Counts calls until a call limit or a deadline, whichever comes first."""

    def __init__(self, calls: int, seconds: float) -> None:
        self.remaining = calls
        self.deadline = time.monotonic() + seconds

    def take(self) -> bool:
        """Whether one more call may start (and counts it)."""
        if self.remaining <= 0 or time.monotonic() >= self.deadline:
            return False
        self.remaining -= 1
        return True


def measure_blocking(call: Callable[[], object], calls: int, seconds: float) -> dict[str, float]:
    """Runs `call` in a loop within the budget; returns calls, elapsed seconds and CPU seconds."""
    for _ in range(WARM_UP_CALLS):
        call()
    budget = Budget(calls, seconds)
    done = 0
    cpu, started = time.process_time(), time.perf_counter()
    while budget.take():
        if call() != TEXT:
            raise RuntimeError("the echo came back changed")
        done += 1
    return {"calls": done, "elapsed": time.perf_counter() - started, "cpu": time.process_time() - cpu}


async def measure_asyncio(call: Callable[[], Any], calls: int, seconds: float) -> dict[str, float]:
    """Runs CONCURRENT_CALLERS loops of `call` sharing one budget."""
    await asyncio.gather(*(call() for _ in range(WARM_UP_CALLS)))
    budget = Budget(calls, seconds)
    done = 0

    async def caller() -> None:
        nonlocal done
        while budget.take():
            if await call() != TEXT:
                raise RuntimeError("the echo came back changed")
            done += 1

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(CONCURRENT_CALLERS)))
    return {"calls": done, "elapsed": time.perf_counter() - started, "cpu": time.process_time() - cpu}


def measure_zerorpc(endpoint: str, callers: int, calls: int, seconds: float) -> dict[str, float]:
    """zerorpc-python's client; concurrent callers are gevent greenlets sharing one client."""
    import gevent  # type: ignore[import-untyped]  # noqa: PLC0415  (only this process uses gevent)
    import zerorpc  # type: ignore[import-untyped]  # noqa: PLC0415

    client = zerorpc.Client(endpoint, heartbeat=5, timeout=30)
    if callers == 1:
        return measure_blocking(lambda: client.echo(TEXT), calls, seconds)
    gevent.joinall([gevent.spawn(client.echo, TEXT) for _ in range(WARM_UP_CALLS)], raise_error=True)
    budget = Budget(calls, seconds)
    done = 0

    def caller() -> None:
        nonlocal done
        while budget.take():
            if client.echo(TEXT) != TEXT:
                raise RuntimeError("the echo came back changed")
            done += 1

    cpu, started = time.process_time(), time.perf_counter()
    gevent.joinall([gevent.spawn(caller) for _ in range(callers)], raise_error=True)
    return {"calls": done, "elapsed": time.perf_counter() - started, "cpu": time.process_time() - cpu}


def measure(client: str, endpoint: str, callers: int, calls: int, seconds: float) -> dict[str, float]:
    """One round of one client, in this process."""
    if client == "zerorpc":
        return measure_zerorpc(endpoint, callers, calls, seconds)
    from bench_api.bench import AsyncBenchClient, BenchClient  # noqa: PLC0415
    from bench_api.rpcgen_runtime import AsyncClient, Client  # noqa: PLC0415

    if callers == 1:
        if client == "generated":
            with BenchClient(endpoint) as typed:
                return measure_blocking(lambda: typed.echo(TEXT), calls, seconds)
        with Client(endpoint) as untyped:
            return measure_blocking(lambda: untyped.call("echo", TEXT), calls, seconds)

    async def main() -> dict[str, float]:
        if client == "generated":
            async with AsyncBenchClient(endpoint) as typed:
                return await measure_asyncio(lambda: typed.echo(TEXT), calls, seconds)
        async with AsyncClient(endpoint) as untyped:
            return await measure_asyncio(lambda: untyped.call("echo", TEXT), calls, seconds)

    return asyncio.run(main())


def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, check=True, text=True, **options)


def prepare(folder: Path) -> Path:
    """Builds the server and generates the client; returns the server binary."""
    run(["cargo", "build", "--release", "-q", "-p", "rpcgen-bench", "--bin", "bench-server"])
    generate = ["cargo", "run", "-q", "-p", "rpcgen", "--", "generate", "--lang", "python", "--out"]
    run([*generate, str(folder / "bench_api"), "tests/python/bench/bench.rpc"])
    metadata = run(["cargo", "metadata", "-q", "--format-version", "1", "--no-deps"], capture_output=True)
    return Path(json.loads(metadata.stdout)["target_directory"]) / "release" / "bench-server"


def start_server(binary: Path) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("READY "):
        server.kill()
        raise RuntimeError(f"bench-server printed {line!r} instead of READY")
    return server, line.split()[1]


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def table(results: dict[tuple[str, int], list[dict[str, float]]]) -> str:
    """The Markdown table of median rounds."""

    def median_round(rounds: list[dict[str, float]]) -> dict[str, float]:
        rates = [r["calls"] / r["elapsed"] for r in rounds]
        return rounds[rates.index(statistics.median_low(rates))]

    lines = [
        "| client | callers | calls/s | client CPU per call | vs zerorpc-python |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for client, callers in MATRIX:
        chosen = median_round(results[client, callers])
        rate = chosen["calls"] / chosen["elapsed"]
        baseline = median_round(results["zerorpc", callers])
        ratio = rate / (baseline["calls"] / baseline["elapsed"])
        cpu = chosen["cpu"] / chosen["calls"] * 1e6
        lines.append(f"| {LABELS[client]} | {callers} | {rate:,.0f} | {cpu:.0f} µs | {ratio:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--measure", choices=sorted(LABELS), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--callers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.endpoint, args.callers, args.calls, args.seconds)))
        return

    with tempfile.TemporaryDirectory() as folder:
        binary = prepare(Path(folder))
        server, endpoint = start_server(binary)
        print(f"server: bench-server (rpcgen runtime, release) at {endpoint}; load average {load_average()}")
        results: dict[tuple[str, int], list[dict[str, float]]] = {key: [] for key in MATRIX}
        environment = {**os.environ, "PYTHONPATH": folder}
        try:
            for round_number in range(args.rounds):
                for client, callers in MATRIX:
                    command = [sys.executable, __file__, "--measure", client, "--endpoint", endpoint]
                    options = [
                        "--callers",
                        str(callers),
                        "--calls",
                        str(args.calls),
                        "--seconds",
                        str(args.seconds),
                    ]
                    output = run([*command, *options], capture_output=True, env=environment).stdout
                    results[client, callers].append(json.loads(output))
                print(f"round {round_number + 1}/{args.rounds} done; load average {load_average()}")
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=10)
    print(table(results))


if __name__ == "__main__":
    main()
