"""zerorpc-python's one-way peers, for the tests of the Rust runtime's one-way patterns.

Usage:
  python py_oneway.py push ENDPOINT    a Pusher connects to ENDPOINT and pushes record(0) ..
                                       record(99), then events a listener must refuse (an unknown
                                       method, wrong arguments, a handler that panics, a streaming
                                       method), then record(100)
  python py_oneway.py publish ENDPOINT START
                                       a Publisher binds ENDPOINT (tcp://127.0.0.1:* for a free
                                       port) and publishes record(n) every 20 ms, n counting up
                                       from START
  python py_oneway.py subscribe ENDPOINT
                                       a Subscriber connects to ENDPOINT and prints "GOT <n>" for
                                       each record(n) it receives
  python py_oneway.py pull ENDPOINT    a Puller binds ENDPOINT (tcp://127.0.0.1:* for a free port)
                                       and prints "GOT <n>" for each record(n) it receives

Prints "READY <endpoint>" once connected or bound, and "SENT" once a push run is over; then
runs until it is killed (pushed events wait in its socket until a listener takes them).
"""

import sys

import gevent
import zerorpc
import zmq


def push(endpoint):
    pusher = zerorpc.Pusher()
    pusher.connect(endpoint)
    print(f"READY {endpoint}", flush=True)
    for n in range(100):
        pusher.record(n)
    pusher.no_such_method(1)
    pusher.record("not a number")
    pusher.record(1, 2)
    pusher.explode()
    pusher.count(3)
    pusher.record(100)
    print("SENT", flush=True)
    while True:
        gevent.sleep(1)


def publish(endpoint, start):
    publisher = zerorpc.Publisher()
    publisher.bind(endpoint)
    bound = publisher._events._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    print(f"READY {bound}", flush=True)
    n = start
    while True:
        publisher.record(n)
        n += 1
        gevent.sleep(0.02)


class Recorder:
    def record(self, n):
        print(f"GOT {n}", flush=True)


def subscribe(endpoint):
    subscriber = zerorpc.Subscriber(Recorder())
    subscriber.connect(endpoint)
    print(f"READY {endpoint}", flush=True)
    subscriber.run()


def pull(endpoint):
    puller = zerorpc.Puller(Recorder())
    puller.bind(endpoint)
    bound = puller._events._socket.getsockopt(zmq.LAST_ENDPOINT).decode()
    print(f"READY {bound}", flush=True)
    puller.run()


def main():
    mode, endpoint = sys.argv[1], sys.argv[2]
    if mode == "push":
        push(endpoint)
    elif mode == "publish":
        publish(endpoint, int(sys.argv[3]))
    elif mode == "subscribe":
        subscribe(endpoint)
    elif mode == "pull":
        pull(endpoint)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
