"""zerorpc-python's own Puller, counting the events it handles, for `oneway-bench`.

Run by `oneway-bench` with the repository's venv:

    .venv/bin/python bench/zerorpc_puller.py

It binds a free port on 127.0.0.1, prints `READY <endpoint>`, then answers each line on stdin
(any text) with the number of `record` events handled so far, until stdin closes.
"""

import sys

import gevent  # type: ignore[import-untyped]
import gevent.os  # type: ignore[import-untyped]
import zerorpc  # type: ignore[import-untyped]
import zmq


class Counter:
    """The one-way method of the benchmark."""

    def __init__(self) -> None:
        self.count = 0

    def record(self, n: int) -> None:
        """Counts an event."""
        self.count += 1


def main() -> None:
    """Pulls on 127.0.0.1 and answers count requests until stdin closes."""
    counter = Counter()
    puller = zerorpc.Puller(counter)
    puller.bind("tcp://127.0.0.1:*")
    endpoint = puller._events._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    print(f"READY {endpoint}", flush=True)

    def answer_until_stdin_closes() -> None:
        pending = b""
        while chunk := gevent.os.tp_read(sys.stdin.fileno(), 4096):
            pending += chunk
            while b"\n" in pending:
                _, pending = pending.split(b"\n", 1)
                print(counter.count, flush=True)
        puller.stop()

    gevent.spawn(answer_until_stdin_closes)
    puller.run()


if __name__ == "__main__":
    main()
