/**
 * A client of several servers: `new Client([endpoint, endpoint])`. The two servers are the real
 * zerorpc-python and zerorpc-node peers (the same methods), told apart by what `_zerorpc_ping`
 * answers. Calls go to each in turn; long calls and streams work on both at once (each server gets
 * the heartbeats and credit of its own calls); calls move to the other server while one is gone.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client, LostRemoteError } from "../src/rpcgen-runtime.js";
import { collect } from "./support/calls.js";
import { freePort, startNodePeer, startPythonPeer, type Peer } from "./support/peers.js";

const HEARTBEAT_SECONDS = 1;
const SUITE_LIMIT_MS = 90_000;
/** What `_zerorpc_ping` names: zerorpc-python the served class, zerorpc-node nothing. */
const PYTHON = "Peer";
const NODE = "";

/** Which server answered each of `calls` pings, in order. */
async function who(client: Client, calls: number): Promise<string[]> {
  const names: string[] = [];
  for (let call = 0; call < calls; call += 1) {
    const [, name] = await client.call<[string, string]>("_zerorpc_ping", []);
    names.push(name);
  }
  return names;
}

/** Calls until both servers have answered (at most 20 s): both are connected. */
async function untilBothAnswer(client: Client): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (new Set(await who(client, 2)).size < 2) {
    assert.ok(Date.now() < deadline, "not both servers answered within 20 s");
  }
}

/** Runs `body` with a python and a node peer and a client of both; stops them all after. */
async function withBoth(body: (client: Client, python: Peer) => Promise<void>): Promise<void> {
  const [python, node] = await Promise.all([startPythonPeer(HEARTBEAT_SECONDS), startNodePeer(HEARTBEAT_SECONDS)]);
  const client = new Client([python.endpoint, node.endpoint], { heartbeatSeconds: HEARTBEAT_SECONDS });
  try {
    await untilBothAnswer(client);
    await body(client, python);
  } finally {
    client.close();
    await Promise.all([python.stop(), node.stop()]);
  }
}

describe("client of several servers", { timeout: SUITE_LIMIT_MS }, () => {
  test("calls, long calls and streams go to both servers", () =>
    withBoth(async (client, python) => {
      assert.equal(client.endpoint, python.endpoint);
      assert.equal(client.endpoints.length, 2);
      const names = await who(client, 10);
      assert.equal(names.filter((name) => name === PYTHON).length, 5);
      assert.equal(names.filter((name) => name === NODE).length, 5);
      // Longer than three heartbeat intervals, two on each server at once.
      const slow = await Promise.all(Array.from({ length: 4 }, () => client.call("slow", [3.5])));
      assert.deepEqual(slow, [3.5, 3.5, 3.5, 3.5]);
      // Longer than the credit window, one on each server at once.
      const streams = await Promise.all([0, 1].map(() => collect(client.stream<number>("count", [1000]))));
      const expected = Array.from({ length: 1000 }, (_, index) => index);
      assert.deepEqual(streams, [expected, expected]);
    }));

  test("calls go to the other server while one is gone", () =>
    withBoth(async (client, python) => {
      python.kill();
      // A call sent before the client saw the server go ends in LostRemoteError; then all go to node.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const names = await who(client, 10).catch((error: unknown) => {
          assert.ok(error instanceof LostRemoteError, String(error));
          return [];
        });
        if (names.length === 10 && names.every((name) => name === NODE)) {
          break;
        }
        assert.ok(Date.now() < deadline, "calls still went to the killed server");
      }
    }));

  test("calls no server took go to the first that comes up", async () => {
    // Neither server is up: the calls wait in the client, not in the queue of a socket, so when
    // only one server comes, all of them go to it, a stream with its credit.
    const [down, nodePort] = await Promise.all([freePort(), freePort()]);
    const nodeEndpoint = `tcp://127.0.0.1:${nodePort}`;
    const client = new Client([`tcp://127.0.0.1:${down}`, nodeEndpoint], { heartbeatSeconds: HEARTBEAT_SECONDS });
    try {
      const pings = Promise.all(Array.from({ length: 6 }, () => client.call<[string, string]>("_zerorpc_ping", [])));
      const stream = collect(client.stream<number>("count", [300]));
      // Longer than three heartbeat intervals: a waiting call is bounded by its time limit only.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const node = await startNodePeer(HEARTBEAT_SECONDS, nodeEndpoint);
      try {
        assert.deepEqual(
          (await pings).map(([, name]) => name),
          Array.from({ length: 6 }, () => NODE),
        );
        assert.deepEqual(await stream, Array.from({ length: 300 }, (_, index) => index));
      } finally {
        await node.stop();
      }
    } finally {
      client.close();
    }
  });

  test("a bad list of endpoints is refused", () => {
    assert.throws(() => new Client([]), /non-empty array of strings/);
    assert.throws(() => new Client(["tcp://127.0.0.1:1", "not an endpoint"]), /cannot connect to "not an endpoint"/);
  });
});
