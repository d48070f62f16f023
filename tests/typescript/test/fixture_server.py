"""A zerorpc-python server for tests/typescript/schemas/fixture.rpc.

It answers in the wire forms rpcgen uses (structs as maps keyed by wire name, unit variants as their
name, variants with data as one-key maps) and raises typed errors the way docs/errors.md says: the
error's name, a readable message, and a last traceback line `rpcgen-error-fields: <base64>` carrying
the fields as MessagePack. Run it like tests/fixtures/zerorpc_peer.py:

    python fixture_server.py [--heartbeat 1]

It prints `READY <endpoint>` and serves until stdin closes.
"""

import argparse
import base64
import sys

import gevent
import msgpack
import zerorpc
import zmq

ITEM = {
    "id": 2**63 + 1,
    "name": "first",
    "tags": ["a", "b"],
    "note": None,
    "color": "green",
    "is-new": True,
}


class NotFound(Exception):
    """An exception named like the IDL error, raised with or without rpcgen's fields line."""


class Refused(Exception):
    """The field-less IDL error."""


def typed_error(error_class, fields, message):
    """An exception whose zerorpc traceback ends with rpcgen's fields line."""
    encoded = base64.b64encode(msgpack.packb(fields, use_bin_type=True)).decode()
    return error_class(f"{message}\nrpcgen-error-fields: {encoded}")


class Fixture:
    def get(self, item_id):
        if item_id == 1:
            return ITEM
        if item_id == 2:
            raise NotFound("no item 2 (a foreign error without fields)")
        if item_id == 3:
            raise typed_error(Refused, {}, "Refused")
        raise typed_error(
            NotFound, {"id": item_id, "message": "no such item"}, "no such item"
        )

    def echo_item(self, item):
        return item

    def echo_change(self, change):
        return change

    @zerorpc.stream
    def changes(self, fail):
        yield {"Added": ITEM}
        yield {"Renamed": [7, "seven"]}
        yield {"Removed": {"id": 8, "reason": "gone"}}
        yield "Cleared"
        if fail:
            raise typed_error(
                NotFound, {"id": 9, "message": "stream failed"}, "stream failed"
            )

    def by_color(self):
        return {"Red": 1, "green": 2}

    def broken(self):
        return dict(ITEM, tags=["a", 7])

    def slow(self, seconds):
        gevent.sleep(seconds)
        return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="tcp://127.0.0.1:*")
    parser.add_argument("--heartbeat", type=float, default=5.0)
    args = parser.parse_args()

    server = zerorpc.Server(Fixture(), heartbeat=args.heartbeat)
    server.bind(args.bind)
    endpoint = server._events._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    print(f"READY {endpoint}", flush=True)

    def stop_when_stdin_closes():
        from gevent.os import tp_read

        while tp_read(sys.stdin.fileno(), 4096):
            pass
        server.stop()

    gevent.spawn(stop_when_stdin_closes)
    server.run()


if __name__ == "__main__":
    main()
