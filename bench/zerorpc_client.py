"""zerorpc-python's own client, calling zerorpc-python's own server for the runtime benchmark.

Run by `runtime-bench` with the repository's venv (see docs/benchmarks.md):

    .venv/bin/python bench/zerorpc_client.py ENDPOINT [--heartbeat 5] [--timeout 10]

It connects one `zerorpc.Client` to ENDPOINT (bench/zerorpc_server.py), prints
`READY <endpoint>`, then answers each command line on stdin with one line:

    <call|stream> <method> <callers> <most calls> <most seconds> <arguments as hex MessagePack>

It checks one call first: a `call` must answer its first argument unchanged, a `stream` must
yield as many items as its first argument says. Then <callers> greenlets share the client, each
calling <method> (and reading a stream to its end) until the calls or the seconds run out, and it
prints `DONE <elapsed ns> <latency ns> ...` (one latency per call), or `ERROR <reason>`. It exits
when stdin closes.
"""

import argparse
import sys
import time
from typing import Any

import gevent  # type: ignore[import-untyped]
import gevent.fileobject  # type: ignore[import-untyped]
import msgpack  # type: ignore[import-untyped, unused-ignore]
import zerorpc  # type: ignore[import-untyped]


class Budget:
    """The calls and the time a measurement may use, shared by its greenlets."""

    def __init__(self, calls: int, seconds: float) -> None:
        self.remaining = calls
        self.deadline = time.perf_counter() + seconds

    def take(self) -> bool:
        """Takes one call; False once the calls or the time are used up."""
        if self.remaining == 0 or time.perf_counter() >= self.deadline:
            return False
        self.remaining -= 1
        return True


def measure(client: Any, command: str) -> str:
    """Runs one command line and returns the line that answers it."""
    kind, method, callers, calls, seconds, arguments = command.split()
    args = msgpack.unpackb(bytes.fromhex(arguments), raw=False)

    def call() -> Any:
        answer = client(method, *args)
        return sum(1 for _ in answer) if kind == "stream" else answer

    if call() != args[0]:
        return f"ERROR `{method}` answered something else than {str(args[0])[:40]}"
    budget = Budget(int(calls), float(seconds))
    latencies: list[int] = []

    def caller() -> None:
        while budget.take():
            sent = time.perf_counter_ns()
            call()
            latencies.append(time.perf_counter_ns() - sent)

    started = time.perf_counter_ns()
    greenlets = [gevent.spawn(caller) for _ in range(int(callers))]
    gevent.joinall(greenlets)
    elapsed = time.perf_counter_ns() - started
    for greenlet in greenlets:
        if greenlet.exception is not None:
            return f"ERROR {type(greenlet.exception).__name__}: {greenlet.exception}"
    return " ".join(map(str, ["DONE", elapsed, *latencies]))


def main() -> None:
    """Connects to ENDPOINT and measures what stdin asks for until it closes."""
    parser = argparse.ArgumentParser(description="zerorpc-python benchmark client")
    parser.add_argument("endpoint")
    parser.add_argument("--heartbeat", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    client = zerorpc.Client(heartbeat=args.heartbeat, timeout=args.timeout)
    client.connect(args.endpoint)
    print(f"READY {args.endpoint}", flush=True)
    # Read stdin through gevent, so that waiting for a command never blocks the client's loop.
    commands = gevent.fileobject.FileObject(sys.stdin.fileno(), "r")
    for line in commands:
        try:
            answer = measure(client, line)
        except Exception as error:  # noqa: BLE001 - every failure is reported to the bench
            answer = f"ERROR {type(error).__name__}: {error}"
        print(answer, flush=True)
    client.close()


if __name__ == "__main__":
    main()
