/**
 * The client generated from schemas/fixture.rpc against test/fixture_server.py, a real
 * zerorpc-python server that answers in rpcgen's wire forms: structs with renamed fields, both
 * kinds of enums, maps keyed by an enum, typed errors (from calls and from streams), foreign errors
 * that share a declared name, replies that do not match, and a method's default timeout.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Client, ProtocolError, RemoteError, TimeoutExpiredError } from "../build/generated/rpcgen-runtime.js";
import { FixtureClient, NotFound, Refused, type Change, type Item } from "../build/generated/fixture.js";
import { collect, rejection, startFixtureServer, type RunningServer } from "./support/servers.js";

const HEARTBEAT_SECONDS = 1;
const SUITE_LIMIT_MS = 90_000;

/** The item the server's `get(1)` returns. */
const ITEM: Item = {
  id: 2n ** 63n + 1n,
  name: "first",
  tags: ["a", "b"],
  note: null,
  color: "green",
  "is-new": true,
};

describe("generated client against the fixture server", { timeout: SUITE_LIMIT_MS }, () => {
  let server: RunningServer;
  let connection: Client;
  let client: FixtureClient;

  before(async () => {
    server = await startFixtureServer(HEARTBEAT_SECONDS);
    connection = new Client(server.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
    client = new FixtureClient(connection);
  });

  after(async () => {
    connection.close();
    await server.stop();
  });

  test("structs travel as maps keyed by wire names", async () => {
    assert.deepEqual(await client.get(1n), ITEM);
    const item: Item = { id: 5n, name: "n", tags: [], note: "a note", color: "Red", "is-new": false };
    assert.deepEqual(await client.echoItem(item), item);
  });

  test("enum values travel in their wire form, both ways", async () => {
    const changes: Change[] = [
      { Added: ITEM },
      { Renamed: [7n, "seven"] },
      { Removed: { id: 8n, reason: "gone" } },
      "Cleared",
    ];
    for (const change of changes) {
      assert.deepEqual(await client.echoChange(change), change);
    }
    assert.deepEqual(await collect(client.changes(false)), changes);
  });

  test("maps keyed by an enum", async () => {
    assert.deepEqual(await client.byColor(), { Red: 1, green: 2 });
  });

  test("a declared error arrives as its class, with its fields", async () => {
    const error = await rejection(client.get(7n));
    assert.ok(error instanceof NotFound, String(error));
    assert.ok(error instanceof RemoteError);
    assert.deepEqual(error.fields, { id: 7n, message: "no such item" });
    assert.equal(error.remoteName, "NotFound");
    assert.equal(error.name, "NotFound");
    const refused = await rejection(client.get(3n));
    assert.ok(refused instanceof Refused, String(refused));
    assert.deepEqual(refused.fields, {});
  });

  test("a declared error ends a stream after the items before it", async () => {
    const seen: Change[] = [];
    const error = await rejection(
      (async () => {
        for await (const change of client.changes(true)) {
          seen.push(change);
        }
      })(),
    );
    assert.equal(seen.length, 4);
    assert.ok(error instanceof NotFound, String(error));
    assert.deepEqual(error.fields, { id: 9n, message: "stream failed" });
  });

  test("an error named like a declared one but without fields stays a plain RemoteError", async () => {
    const error = await rejection(client.get(2n));
    assert.ok(error instanceof RemoteError, String(error));
    assert.ok(!(error instanceof NotFound));
    assert.equal(error.remoteName, "NotFound");
    assert.match(error.remoteMessage, /foreign error without fields/);
  });

  test("a reply that does not match its type names the path", async () => {
    const error = await rejection(client.broken());
    assert.ok(error instanceof ProtocolError, String(error));
    assert.match(error.message, /does not match the schema: Item\.tags\[1\]: expected a string, got 7$/);
  });

  test("invalid arguments inside structs and enums are refused with their path", async () => {
    const badColor = { ...ITEM, color: "Blue" } as unknown as Item;
    const error = await rejection(client.echoItem(badColor));
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /item\.color: expected one of "Red", "green", got 'Blue'$/);
    const badChange = { Renamed: [-1n, "x"] } as Change;
    const range = await rejection(client.echoChange(badChange));
    assert.ok(range instanceof RangeError);
    assert.match(range.message, /change\.Renamed\[0\]: -1 is out of range/);
  });

  test("@timeout is the method's default time limit, and a call can override it", async () => {
    const error = await rejection(client.slow(5));
    assert.ok(error instanceof TimeoutExpiredError, String(error));
    assert.match(error.message, /timeout after 0\.5s/);
    assert.equal(await client.slow(0.7, { timeoutSeconds: 10 }), 0.7);
  });
});
