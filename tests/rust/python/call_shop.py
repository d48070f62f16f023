"""Calls the example shop (generated Rust server) with the real zerorpc-python client.

Usage: call_shop.py ENDPOINT. Prints one JSON object with what every call returned or raised, for
tests/python_client.rs to check; bytes are written as {"$bytes": "<hex>"}.
"""

import json
import sys
from collections.abc import Callable
from typing import Any

import zerorpc  # type: ignore[import-untyped]


def jsonable(value: Any) -> Any:
    """The value with bytes made JSON-safe, containers converted recursively."""
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def remote_error(call: Callable[[], Any]) -> dict[str, str]:
    """What a call that must fail raised, as a dict."""
    try:
        call()
    except zerorpc.RemoteError as error:
        return {"name": error.name, "msg": error.msg, "traceback": error.traceback}
    raise AssertionError("the call should have failed")


def main() -> None:
    client = zerorpc.Client(timeout=30, heartbeat=1)
    client.connect(sys.argv[1])
    results: dict[str, Any] = {}
    full = {
        "title": "Printer on fire",
        "body": "Smoke since 9:00.",
        "tags": ["hardware"],
        "priority": "High",
        "price": {"cents": 4900, "currency": "EUR"},
    }
    results["open"] = client.open(full)
    ticket_id = results["open"]["id"]
    # Optional fields may be left out entirely: they arrive as None.
    results["open_minimal"] = client.open(
        {"title": "Typo", "tags": [], "priority": "Low"}
    )
    results["attach"] = client.attach(ticket_id, b"\x00\x01\xff")
    results["get"] = client.get(ticket_id)
    results["move"] = client.move(ticket_id, "hardware")
    results["list"] = list(client.ticket_list(None))
    results["list_high"] = list(client.ticket_list("High"))
    results["stats"] = client.stats()
    results["get_missing"] = remote_error(lambda: client.get(999))
    results["open_rejected"] = remote_error(lambda: client.open(dict(full, title="")))
    results["bad_priority"] = remote_error(lambda: client.ticket_list("Urgent"))
    # `client.close` is zerorpc's own method (it closes the socket): call the remote one by name.
    results["close"] = client("close", ticket_id, "done")
    results["history"] = list(client.history())
    results["first"] = client.first()
    results["inspect"] = client._zerorpc_inspect()
    client.close()
    print(json.dumps(jsonable(results)))


if __name__ == "__main__":
    main()
