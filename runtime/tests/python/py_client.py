"""A real zerorpc-python client calling an rpcgen Rust server (the demo service of the tests).

Usage: python py_client.py [--bind] ENDPOINT. The client connects to ENDPOINT, or with --bind
listens there for a server that connects (zerorpc's reverse mode). Exits 0 and prints "PASSED <n>
checks" when every check holds; otherwise raises with a message saying which check failed.
"""

import sys
import time

import zerorpc
import zmq

VALUES = [
    None,
    True,
    False,
    7,
    -3,
    2**63 + 5,
    -(2**63),
    1.5,
    "héllo",
    b"\x00\x01\xff",
    [1, "two", 3.0],
    {"a": 1, "b": [True, None], "c": {"d": b"x"}},
]


def expect_remote_error(call, name, fragment):
    try:
        call()
    except zerorpc.RemoteError as error:
        assert error.name == name, "expected %s, got %s: %s" % (name, error.name, error.msg)
        assert fragment in error.msg, "%r not in %r" % (fragment, error.msg)
        return
    raise AssertionError("expected RemoteError %s" % name)


class TraceId:
    """zerorpc middleware that puts a trace id in the header of every request."""

    def __init__(self, trace_id):
        self.trace_id = trace_id

    def get_task_context(self):
        return {"trace_id": self.trace_id}


def open_client(endpoint, bind, **options):
    """A zerorpc client that connects to `endpoint`, or binds it when `bind` is true (retrying
    for up to 5 s while a client closed a moment ago still holds the address)."""
    client = zerorpc.Client(heartbeat=1, timeout=20, **options)
    if not bind:
        client.connect(endpoint)
        return client
    for _ in range(50):
        try:
            client.bind(endpoint)
            return client
        except zmq.ZMQError as error:
            if error.errno != zmq.EADDRINUSE:
                raise
            time.sleep(0.1)
    raise AssertionError("%s stayed in use" % endpoint)


def main():
    bind = sys.argv[1] == "--bind"
    endpoint = sys.argv[-1]
    client = open_client(endpoint, bind)
    checks = 0
    for value in VALUES:
        echoed = client.echo(value)
        assert echoed == value and type(echoed) is type(value), "echo %r gave %r" % (value, echoed)
        checks += 1
    assert client.add(2, 3) == 5
    assert client.hello("py") == "Hello, py"  # The optional greeting left out reads as nil.
    assert client.hello("py", "Hi") == "Hi, py"
    assert client.nothing() is None
    expect_remote_error(lambda: client.fail("boom"), "ValueError", "boom")
    expect_remote_error(lambda: client.nosuch(), "NameError", "nosuch")
    expect_remote_error(lambda: client.add(1), "TypeError", "`add` takes 2 arguments")
    expect_remote_error(lambda: client.add(1, "x"), "TypeError", "`b`")
    checks += 8
    assert list(client.count(1000)) == list(range(1000)), "a 1000-item stream"
    assert list(client.count(0)) == []
    checks += 2
    inspected = client._zerorpc_inspect()
    assert inspected["name"] == "Demo"
    assert [arg["name"] for arg in inspected["methods"]["add"]["args"]] == ["a", "b"]
    assert inspected["methods"]["add"]["doc"] == "Adds two integers."
    assert inspected["methods"]["hello"]["args"] == [{"name": "name"}, {"name": "greeting", "default": None}]
    assert inspected["contract"]["root"] == "demo.rpc"
    assert "service Demo {" in inspected["contract"]["files"]["demo.rpc"]
    assert client._zerorpc_ping() == ["pong", "Demo"]
    assert "add" in client._zerorpc_list()
    checks += 6
    # Longer than three heartbeat intervals on both sides.
    assert client.sleep(3.5) == 3.5
    checks += 1
    client.close()
    # zerorpc middleware's get_task_context adds header entries; a Rust handler reads them.
    context = zerorpc.Context()
    context.register_middleware(TraceId("from-python"))
    traced = open_client(endpoint, bind, context=context)
    assert traced.header_entry("trace_id") == "from-python"
    assert traced.header_entry("absent") is None
    traced.close()
    checks += 2
    print("PASSED %d checks" % checks)


if __name__ == "__main__":
    main()
