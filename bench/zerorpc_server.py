"""zerorpc-python's own server with the benchmark's echo methods and stream (see docs/benchmarks.md).

Run by `runtime-bench` with the repository's venv:

    .venv/bin/python bench/zerorpc_server.py [--heartbeat 5]

It binds a free port on 127.0.0.1, prints `READY <endpoint>` and serves until stdin closes.
"""

import argparse
import sys
from collections.abc import Iterator

import gevent  # type: ignore[import-untyped]
import gevent.os  # type: ignore[import-untyped]
import zerorpc  # type: ignore[import-untyped]
import zmq


class Bench:
    """Echo methods for rpcgen's runtime benchmark."""

    def echo(self, text: str) -> str:
        """Returns a string unchanged."""
        return text

    def echo_map(self, entries: dict[str, int]) -> dict[str, int]:
        """Returns a map unchanged."""
        return entries

    def echo_bytes(self, data: bytes) -> bytes:
        """Returns bytes unchanged."""
        return data

    @zerorpc.stream  # type: ignore[untyped-decorator, unused-ignore]
    def items(self, count: int, size: int) -> Iterator[str]:
        """Streams `count` strings of `size` characters each."""
        item = "x" * size
        return (item for _ in range(count))


def main() -> None:
    """Serves `Bench` on 127.0.0.1 until stdin closes."""
    parser = argparse.ArgumentParser(description="zerorpc-python benchmark server")
    parser.add_argument("--heartbeat", type=float, default=5.0)
    args = parser.parse_args()

    server = zerorpc.Server(Bench(), heartbeat=args.heartbeat)
    server.bind("tcp://127.0.0.1:*")
    endpoint = server._events._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    print(f"READY {endpoint}", flush=True)

    def stop_when_stdin_closes() -> None:
        while gevent.os.tp_read(sys.stdin.fileno(), 4096):
            pass
        server.stop()

    gevent.spawn(stop_when_stdin_closes)
    server.run()


if __name__ == "__main__":
    main()
