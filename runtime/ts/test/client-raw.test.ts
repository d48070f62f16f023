/**
 * The client against a hand-driven ROUTER (test/support/raw-server.ts): the frames and headers it
 * sends, replies as zerorpc-node and odd peers send them, unreadable replies, heartbeat loss, and
 * the exact `_zpc_more` credit it grants.
 */

import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { after, before, describe, mock, test } from "node:test";
import {
  callMethod,
  type CallOptions,
  Client,
  ClientClosedError,
  encodeRequest,
  listOf,
  LostRemoteError,
  ProtocolError,
  RemoteError,
  type RequestRecord,
  RpcError,
  TimeoutExpiredError,
  toAny,
  toBytes,
  toF32,
  toF64,
  toRecord,
  toText,
  TooLargeError,
  toU32,
  toU64,
  toVoid,
  type MethodSpec,
} from "../src/rpcgen-runtime.js";
import { collect } from "./support/calls.js";
import { freePort } from "./support/peers.js";
import { RawServer, type ReceivedEvent } from "./support/raw-server.js";
import { bytesHex } from "./support/vectors.js";

/** Long enough that heartbeat loss never interferes, except where a test sets its own. */
const QUIET_HEARTBEAT_SECONDS = 30;

/** A raw server bound to `endpoint`, which a server closed a moment ago: retried for up to 5 s while the port is still taken. */
async function bindAgain(endpoint: string): Promise<RawServer> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await RawServer.start(endpoint);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "EADDRINUSE" || Date.now() > deadline) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * Asserts that the first request `server` receives is the call `pending` of `method` (a socket keeps
 * the order of its messages: a request sent before would come first), and answers it.
 */
async function answerFirstRequest(server: RawServer, method: string, pending: Promise<unknown>): Promise<void> {
  const request = await server.receive();
  assert.equal(request.event.name, method);
  await server.reply(request, "OK", [method]);
  assert.equal(await pending, method);
}

describe("client against a hand-driven server", { timeout: 60_000 }, () => {
  let server: RawServer;
  let client: Client;

  before(async () => {
    server = await RawServer.start();
    client = new Client(server.endpoint, { heartbeatSeconds: QUIET_HEARTBEAT_SECONDS });
  });

  after(() => {
    client.close();
    server.close();
  });

  test("a request is [delimiter, event] with a zerorpc-python style header", async () => {
    const pending = client.call("hello", ["x"]);
    const request = await server.receive();
    const [delimiter] = request.frames;
    assert.equal(request.frames.length, 2);
    assert.equal(delimiter?.length, 0);
    assert.deepEqual(Object.keys(request.event.header), ["message_id", "v"]);
    assert.equal(request.event.header["v"], 3);
    const id = request.event.header["message_id"];
    assert.ok(id instanceof Uint8Array);
    assert.match(Buffer.from(id).toString("latin1"), /^[0-9a-f]{32}$/);
    assert.equal(request.event.name, "hello");
    assert.deepEqual(request.event.args, ["x"]);
    await server.reply(request, "OK", ["done"]);
    assert.equal(await pending, "done");
  });

  test("each request has a fresh id", async () => {
    const pending = [client.call("a", []), client.call("b", [])];
    const requests = [await server.receive(), await server.receive()];
    const ids = requests.map((request) => Buffer.from(request.event.header["message_id"] as Uint8Array).toString());
    assert.notEqual(ids[0], ids[1]);
    await Promise.all(requests.map((request) => server.reply(request, "OK", [request.event.name])));
    assert.deepEqual((await Promise.all(pending)).sort(), ["a", "b"]);
  });

  test("a server that has never answered counts as connected: a timeout does not say never connected", async () => {
    // What counts is ZeroMQ's handshake, which comes before the first request reaches the server.
    const silent = await RawServer.start();
    const fresh = new Client(silent.endpoint, { heartbeatSeconds: QUIET_HEARTBEAT_SECONDS });
    try {
      const unanswered = fresh.call("hello", ["x"], { timeoutSeconds: null });
      await silent.receive();
      await assert.rejects(fresh.call("hello", ["y"], { timeoutSeconds: 0.3 }), (error: unknown) => {
        assert.ok(error instanceof TimeoutExpiredError);
        assert.equal(error.neverConnected, undefined);
        assert.doesNotMatch(error.message, /never connected/);
        return true;
      });
      fresh.close();
      await assert.rejects(unanswered, ClientClosedError);
    } finally {
      fresh.close();
      silent.close();
    }
  });

  test("a call whose server's connection drops ends in LostRemoteError at once, not at heartbeat loss", async () => {
    const doomed = await RawServer.start();
    // No heartbeats and no time limit: only the dropped connection can end the call.
    const fresh = new Client(doomed.endpoint, { heartbeatSeconds: null });
    try {
      const unanswered = fresh.call("hello", ["x"], { timeoutSeconds: null });
      await doomed.receive();
      doomed.close();
      await assert.rejects(unanswered, (error: unknown) => {
        assert.ok(error instanceof LostRemoteError);
        assert.match(error.message, /the connection to tcp:\/\/127\.0\.0\.1:\d+ dropped during "hello"/);
        return true;
      });
    } finally {
      fresh.close();
    }
  });

  describe("calls made while the server is down", () => {
    test("a call abandoned or timed out before the server is up never reaches it; one still waiting does", async () => {
      const endpoint = `tcp://127.0.0.1:${await freePort()}`;
      const records: RequestRecord[] = [];
      const early = new Client(endpoint, { heartbeatSeconds: QUIET_HEARTBEAT_SECONDS, afterRequest: (record) => records.push(record) });
      let late: RawServer | undefined;
      try {
        const controller = new AbortController();
        const abandoned = early.call("abandoned", [], { signal: controller.signal });
        const timedOut = early.call("timed_out", [], { timeoutSeconds: 0.2 });
        const waiting = early.call("waiting", [], { timeoutSeconds: 60 });
        controller.abort();
        await assert.rejects(abandoned, { name: "AbortError" });
        await assert.rejects(timedOut, { name: "TimeoutExpiredError", neverConnected: [endpoint] });
        late = await RawServer.start(endpoint);
        await answerFirstRequest(late, "waiting", waiting);
        const outcomes = records.map((record) => [record.method, record.outcome.kind, record.endpoint]);
        assert.deepEqual(outcomes, [
          ["abandoned", "cancelled", undefined],
          ["timed_out", "failed", undefined],
          ["waiting", "returned", endpoint],
        ]);
      } finally {
        early.close();
        late?.close();
      }
    });

    test("a call abandoned while its server is down never reaches it when it is back", async () => {
      const first = await RawServer.start();
      const restarting = new Client(first.endpoint, { heartbeatSeconds: QUIET_HEARTBEAT_SECONDS });
      let back: RawServer | undefined;
      try {
        const once = restarting.call("hello", []);
        await first.reply(await first.receive(), "OK", ["once"]);
        assert.equal(await once, "once");
        first.close();
        const controller = new AbortController();
        const abandoned = restarting.call("abandoned", [], { signal: controller.signal });
        controller.abort();
        await assert.rejects(abandoned, { name: "AbortError" });
        back = await bindAgain(first.endpoint);
        await answerFirstRequest(back, "waiting", restarting.call("waiting", [], { timeoutSeconds: 60 }));
      } finally {
        restarting.close();
        back?.close();
      }
    });

    test("requests ZeroMQ held for a server that stopped reading and went away never reach it when it is back", async () => {
      // The server reads one message, then no more: ZeroMQ stops taking the connection's data once
      // the server's queue (one message) and its small TCP buffer are full.
      const stalled = await RawServer.start("tcp://127.0.0.1:*", { receiveHighWaterMark: 1, receiveBufferSize: 4096 });
      // No heartbeats and no time limit: only the dropped connection can end the calls.
      const fresh = new Client(stalled.endpoint, { heartbeatSeconds: null });
      let back: RawServer | undefined;
      try {
        const first = fresh.call("first", []);
        await stalled.reply(await stalled.receive(), "OK", ["first"]);
        assert.equal(await first, "first");
        // The server is connected, so the client hands these to ZeroMQ within this turn of the event
        // loop; most stay there.
        const held = Array.from({ length: 30 }, () => fresh.call("held", [new Uint8Array(1024 * 1024)], { timeoutSeconds: null }));
        await new Promise((resolve) => setImmediate(resolve));
        stalled.close();
        const outcomes = await Promise.allSettled(held);
        assert.deepEqual(
          outcomes.map((outcome) => (outcome.status === "rejected" ? (outcome.reason as Error).name : outcome.value)),
          held.map(() => "LostRemoteError"),
        );
        back = await bindAgain(stalled.endpoint);
        await answerFirstRequest(back, "after", fresh.call("after", [], { timeoutSeconds: 60 }));
      } finally {
        fresh.close();
        back?.close();
      }
    });
  });

  test("a reply without the empty delimiter frame is accepted", async () => {
    const pending = client.call("hello", []);
    await server.reply(await server.receive(), "OK", ["no delimiter"], { delimiter: false });
    assert.equal(await pending, "no delimiter");
  });

  test("a reply whose response_to is our id as a str (zerorpc-node style) is matched", async () => {
    const pending = client.call("hello", []);
    await server.reply(await server.receive(), "OK", ["str id"], { responseToAsString: true });
    assert.equal(await pending, "str id");
  });

  test("a reply for an unknown channel is ignored", async () => {
    const pending = client.call("hello", []);
    const request = await server.receive();
    const stranger = { ...request, event: { ...request.event, header: { message_id: "someone-else" } } };
    await server.reply(stranger, "OK", ["not for us"]);
    await server.reply(request, "OK", ["for us"]);
    assert.equal(await pending, "for us");
  });

  describe("zerorpc-node replies", () => {
    test("STREAM_DONE with [] ends a stream", async () => {
      const items = collect(client.stream("count", [2]));
      const request = await server.receive();
      await server.reply(request, "STREAM", 0);
      await server.reply(request, "STREAM", [1]);
      await server.reply(request, "STREAM_DONE", []);
      assert.deepEqual(await items, [0, [1]]);
    });

    test("OK [nil] answering a stream is an empty stream", async () => {
      const items = collect(client.stream("nothing", []));
      await server.reply(await server.receive(), "OK", [null]);
      assert.deepEqual(await items, []);
    });

    test("OK [value] answering a stream is a stream of that value", async () => {
      const items = collect(client.stream("one", []));
      await server.reply(await server.receive(), "OK", ["last"]);
      assert.deepEqual(await items, ["last"]);
    });

    test("ERR [name, message, stack] rejects with RemoteError", async () => {
      const pending = client.call("fail", []);
      await server.reply(await server.receive(), "ERR", ["Error", "boom", "Error: boom\n    at fail"]);
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.deepEqual(
          [error.remoteName, error.remoteMessage, error.remoteTraceback],
          ["Error", "boom", "Error: boom\n    at fail"],
        );
        return true;
      });
    });

    test("ERR with a nil message and nil traceback", async () => {
      const pending = client.call("fail", []);
      await server.reply(await server.receive(), "ERR", ["NotFound", null, null]);
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof RemoteError);
        assert.deepEqual([error.message, error.remoteMessage, error.remoteTraceback], ["NotFound", "", null]);
        return true;
      });
    });
  });

  test("a protocol v1 ERR [repr] rejects with RemoteError", async () => {
    const pending = client.call("nosuch", []);
    await server.reply(await server.receive(), "ERR", ["NameError('nosuch')"]);
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof RemoteError);
      assert.deepEqual([error.remoteName, error.remoteMessage], ["Error", "NameError('nosuch')"]);
      return true;
    });
  });

  describe("ERR replies are read like the Rust runtime reads them", () => {
    /** The name, message and traceback of the RemoteError that `args` as an ERR reply ends a call in. */
    const remoteParts = async (args: unknown): Promise<[string, string, string | null]> => {
      const pending = client.call("fail", []);
      await server.reply(await server.receive(), "ERR", args);
      const error: unknown = await pending.then(
        () => assert.fail("the call succeeded"),
        (reason: unknown) => reason,
      );
      assert.ok(error instanceof RemoteError, String(error));
      return [error.remoteName, error.remoteMessage, error.remoteTraceback];
    };

    test("bin parts (zerorpc-python bytes, Node Buffers) are text", async () => {
      const parts = [Buffer.from("NotFound"), Buffer.from("no ticket 7"), Buffer.from("Traceback …")];
      assert.deepEqual(await remoteParts(parts), ["NotFound", "no ticket 7", "Traceback …"]);
      assert.deepEqual(await remoteParts([Buffer.from([0x4e, 0xff]), "m", null]), ["N\ufffd", "m", null]);
    });

    test("elements after the third are ignored", async () => {
      assert.deepEqual(await remoteParts(["NotFound", "gone", "tb", { id: 7 }]), ["NotFound", "gone", "tb"]);
    });

    test("missing or non-text parts take their defaults", async () => {
      assert.deepEqual(await remoteParts(["ValueError", "bad"]), ["ValueError", "bad", null]);
      assert.deepEqual(await remoteParts([7, "message", 8]), ["Error", "message", null]);
      assert.deepEqual(await remoteParts([]), ["Error", "", null]);
      assert.deepEqual(await remoteParts(null), ["Error", "", null]);
      assert.deepEqual(await remoteParts([Buffer.from("v1 text")]), ["Error", "v1 text", null]);
    });
  });

  describe("a generated method (callMethod)", () => {
    /** A declared error, as the TypeScript backend generates it (docs/errors.md). */
    class NotFound extends RemoteError {
      static readonly errorName = "NotFound";
      constructor(
        readonly id: bigint,
        remote: RemoteError,
      ) {
        super(NotFound.errorName, remote.remoteMessage, remote.remoteTraceback);
      }
      static fromFields(value: unknown, remote: RemoteError): NotFound {
        return new NotFound(toU64(toRecord(value, "NotFound")["id"], "NotFound.id"), remote);
      }
    }
    interface Blob {
      name: string;
      data: Uint8Array;
    }
    const get: MethodSpec<Blob> = {
      name: "get",
      params: [{ name: "id", convert: toU64 }],
      result: (value, path) => {
        const fields = toRecord(value, path);
        return { name: toText(fields["name"], `${path}.name`), data: toBytes(fields["data"], `${path}.data`) };
      },
      resultType: "Blob",
      errors: [NotFound],
    };

    test("f32 and f64 arguments are sent as float64, whole ones and -0 too; integers and any values as integers", async () => {
      const measure: MethodSpec<void> = {
        name: "measure",
        params: [
          { name: "x", convert: toF64 },
          { name: "y", convert: toF32 },
          { name: "z", convert: toF64 },
          { name: "count", convert: toU32 },
          { name: "extra", convert: toAny },
          { name: "points", convert: listOf((value, path) => ({ x: toF64(toRecord(value, path)["x"], `${path}.x`) })) },
        ],
        result: toVoid,
        resultType: "void",
        errors: [],
      };
      const pending = callMethod(client, measure, [3, -0, 1.5, 3, 3, [{ x: 2 }]]);
      const request = await server.receive();
      await server.reply(request, "OK", [null]);
      await pending;
      const event = request.frames[request.frames.length - 1] ?? new Uint8Array();
      const args = ["96", "cb4008000000000000", "cb8000000000000000", "cb3ff8000000000000", "03", "03"];
      const points = ["91", "81a178", "cb4000000000000000"];
      assert.ok(bytesHex(event).endsWith([...args, ...points].join("")), bytesHex(event));
      assert.ok(Object.is((request.event.args as unknown[])[1], -0));
    });

    test("a string read from a bin and bytes read from a str", async () => {
      const pending = callMethod(client, get, [1n]);
      await server.reply(await server.receive(), "OK", [{ name: Buffer.from("héllo"), data: "ab" }]);
      assert.deepEqual(await pending, { name: "héllo", data: new Uint8Array([0x61, 0x62]) });
    });

    test("a bin of invalid UTF-8 for a string is a ProtocolError naming what was expected", async () => {
      const pending = callMethod(client, get, [1n]);
      await server.reply(await server.receive(), "OK", [{ name: new Uint8Array([0xc3]), data: "" }]);
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof ProtocolError, String(error));
        assert.match(error.message, /does not match the schema: Blob\.name: expected a string, got bytes that are not valid UTF-8/);
        return true;
      });
    });

    test("a declared error survives a bin name and a fourth element", async () => {
      const fields = Buffer.from(encode({ id: 7 })).toString("base64");
      const pending = callMethod(client, get, [7n]);
      const traceback = `NotFound: no ticket 7\nrpcgen-error-fields: ${fields}\n`;
      await server.reply(await server.receive(), "ERR", [Buffer.from("NotFound"), "no ticket 7", traceback, "extra"]);
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof NotFound, String(error));
        assert.deepEqual([error.id, error.remoteMessage], [7n, "no ticket 7"]);
        return true;
      });
    });
  });

  test("an unknown reply name rejects with ProtocolError", async () => {
    const pending = client.call("hello", []);
    await server.reply(await server.receive(), "WHAT", []);
    await assert.rejects(pending, /unexpected "WHAT" event in reply to "hello"/);
  });

  test("a reply whose value cannot be decoded rejects its call with ProtocolError", async () => {
    const pending = client.call("weird", []);
    const request = await server.receive();
    // A map whose key is an array: valid MessagePack, but no JavaScript object can hold it.
    const header = encode({ message_id: "raw", v: 3, response_to: request.event.header["message_id"] });
    const event = Buffer.concat([Buffer.from([0x93]), header, Buffer.from("a24f4b9181920102c3", "hex")]);
    await server.sendRaw(request, event);
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.match(error.message, /^unreadable reply to "weird" on tcp:.*map key cannot be \[ 1, 2 \]/);
      return true;
    });
  });

  test("an event that names no call is dropped with a process warning", async () => {
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    const pending = client.call("hello", []);
    const request = await server.receive();
    await server.sendRaw(request, Buffer.from("c1", "hex"));
    const warning = await warned;
    assert.equal(warning.name, "RpcgenWarning");
    assert.match(warning.message, /dropped an unreadable event from tcp:/);
    await server.reply(request, "OK", ["still fine"]);
    assert.equal(await pending, "still fine");
  });

  test("stream credit is granted like zerorpc-python: [100], then [51] each time half is used", async () => {
    const items = collect(client.stream<number>("count", [250]));
    const request = await server.receive();
    const grants: unknown[] = [];
    let credit = 1;
    const readGrant = async (): Promise<void> => {
      const more = await server.receive(["_zpc_hb"]);
      assert.equal(more.event.name, "_zpc_more");
      assert.deepEqual(more.event.header["response_to"], request.event.header["message_id"]);
      const [granted] = more.event.args as [number];
      grants.push(granted);
      credit += granted;
    };
    // Like a zerorpc-python server: never send more events than the client granted.
    for (let item = 0; item <= 250; item += 1) {
      if (credit === 0) {
        await readGrant();
      }
      await (item < 250 ? server.reply(request, "STREAM", item) : server.reply(request, "STREAM_DONE", null));
      credit -= 1;
    }
    assert.deepEqual(await items, Array.from({ length: 250 }, (_, index) => index));
    await readGrant();
    assert.deepEqual(grants, [100, 51, 51, 51, 51]);
  });

  test("a server that ignores stream credit ends the stream after the items sent within it", async () => {
    let release = (): void => {};
    const sent = new Promise<void>((resolve) => (release = resolve));
    const items: number[] = [];
    const read = (async () => {
      for await (const item of client.stream<number>("flood", [])) {
        items.push(item);
        // Takes nothing more until the server has sent everything.
        if (items.length === 1) {
          await sent;
        }
      }
    })();
    const request = await server.receive();
    for (let item = 0; item < 110; item += 1) {
      await server.reply(request, "STREAM", item);
    }
    await server.reply(request, "STREAM_DONE", null);
    // The client reads its socket in order: once this call is answered, every item has been routed.
    const ping = client.call("ping", []);
    await server.reply(await server.receive(), "OK", ["pong"]);
    assert.equal(await ping, "pong");
    release();
    await assert.rejects(read, /^ProtocolError: the server sent more items than the stream credit allowed to "flood"/);
    // The first went to the waiting reader, 102 waited, the next one ended the stream.
    assert.deepEqual(items, Array.from({ length: 103 }, (_, index) => index));
  });

  describe("message size limit (maxMessageSize)", () => {
    const LIMIT = 1000;
    const records: RequestRecord[] = [];
    let small: Client;

    before(() => {
      small = new Client(server.endpoint, {
        heartbeatSeconds: QUIET_HEARTBEAT_SECONDS,
        maxMessageSize: LIMIT,
        afterRequest: (record) => records.push(record),
      });
    });

    after(() => small.close());

    /** Asserts that `error` is the TooLargeError of `what` for `method`, of `size` bytes if given. */
    const tooLarge =
      (what: "request" | "reply", method: string, size?: number) =>
      (error: unknown): true => {
        assert.ok(error instanceof TooLargeError, `expected a TooLargeError, got ${String(error)}`);
        assert.ok(error instanceof RpcError);
        assert.equal(error.name, "TooLargeError");
        assert.equal(error.what, what);
        assert.equal(error.limit, LIMIT);
        assert.ok(error.size > LIMIT);
        if (size !== undefined) {
          assert.equal(error.size, size);
        }
        const of = what === "request" ? "for" : "to";
        const pattern = `^the ${what} ${of} "${method}" on tcp://\\S+ is ${error.size} bytes, above the limit of ${LIMIT} bytes`;
        assert.match(error.message, new RegExp(pattern));
        return true;
      };

    /** An argument whose request for `echo` encodes to exactly `size` bytes (ids are 32 bytes). */
    const argumentOfRequestSize = (size: number): string => {
      const encodedSize = (text: string) => encodeRequest("0".repeat(32), "echo", [text]).byteLength;
      // Past 255 characters a str has a 3-byte head, so each character adds one byte.
      const text = "x".repeat(size - encodedSize("x".repeat(256)) + 256);
      assert.equal(encodedSize(text), size);
      return text;
    };

    test("a request of exactly the limit is sent; one byte more is refused before anything is sent", async () => {
      records.length = 0;
      const fits = argumentOfRequestSize(LIMIT);
      const tooBig = argumentOfRequestSize(LIMIT + 1);
      await assert.rejects(small.call("echo", [tooBig]), tooLarge("request", "echo", LIMIT + 1));
      await assert.rejects(collect(small.stream("echo", [tooBig])), tooLarge("request", "echo", LIMIT + 1));
      assert.equal(small.pendingCalls, 0);
      // Nothing was sent: the first request the server sees is this one.
      const pending = small.call("echo", [fits]);
      const request = await server.receive();
      assert.equal(request.frames.at(-1)?.byteLength, LIMIT);
      assert.deepEqual(request.event.args, [fits]);
      await server.reply(request, "OK", ["sent"]);
      assert.equal(await pending, "sent");
      // A refused request is not a request: afterRequest saw only the one sent.
      assert.deepEqual(
        records.map((record) => record.outcome.kind),
        ["returned"],
      );
    });

    test("a reply above the limit fails its call with TooLargeError, and the client carries on", async () => {
      records.length = 0;
      const pending = small.call("big", []);
      const request = await server.receive();
      const header = { message_id: "raw", v: 3, response_to: request.event.header["message_id"] };
      const reply = encode([header, "OK", ["y".repeat(LIMIT)]]);
      await server.sendRaw(request, reply);
      await assert.rejects(pending, tooLarge("reply", "big", reply.byteLength));
      assert.equal(small.pendingCalls, 0);
      assert.equal(records[0]?.outcome.kind, "failed");
      const next = small.call("small", []);
      await server.reply(await server.receive(), "OK", ["fine"]);
      assert.equal(await next, "fine");
    });

    test("a too-large reply is never decoded: a large reply of undecodable MessagePack is TooLargeError", async () => {
      const pending = small.call("big", []);
      const request = await server.receive();
      const header = encode({ message_id: "raw", v: 3, response_to: request.event.header["message_id"] });
      // The name, then 2000 bytes of 0xc1, which MessagePack never uses: decoding would fail.
      const event = Buffer.concat([Buffer.from([0x93]), header, encode("OK"), Buffer.alloc(2000, 0xc1)]);
      await server.sendRaw(request, event);
      await assert.rejects(pending, tooLarge("reply", "big", event.byteLength));
    });

    test("a stream item above the limit fails the stream after the items before it", async () => {
      const received: unknown[] = [];
      const consuming = (async () => {
        for await (const item of small.stream("count", [])) {
          received.push(item);
        }
      })();
      const request = await server.receive();
      await server.reply(request, "STREAM", 0);
      await server.reply(request, "STREAM", 1);
      await server.reply(request, "STREAM", "z".repeat(LIMIT));
      await server.reply(request, "STREAM_DONE", null);
      await assert.rejects(consuming, tooLarge("reply", "count"));
      assert.deepEqual(received, [0, 1]);
      assert.equal(small.pendingCalls, 0);
    });

    test("a too-large heartbeat still counts as a sign of life", async () => {
      const beating = new Client(server.endpoint, { heartbeatSeconds: 0.2, maxMessageSize: LIMIT });
      try {
        const pending = beating.call("slow", []);
        const request = await server.receive();
        // 1.2 s of big heartbeats: twice the 0.6 s after which a silent server is lost.
        for (let beat = 0; beat < 12; beat += 1) {
          await server.reply(request, "_zpc_hb", ["h".repeat(LIMIT)]);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await server.reply(request, "OK", ["alive"]);
        assert.equal(await pending, "alive");
      } finally {
        beating.close();
      }
    });

    test("a too-large event that names no call is dropped with a process warning", async () => {
      const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
      const pending = small.call("hello", []);
      const request = await server.receive();
      await server.sendRaw(request, encode(["not", "an event", "w".repeat(LIMIT)]));
      const warning = await warned;
      assert.equal(warning.name, "RpcgenWarning");
      assert.match(
        warning.message,
        /^dropped an event of \d+ bytes from tcp:\S+, above the limit of 1000 bytes, that names no call$/,
      );
      await server.reply(request, "OK", ["still fine"]);
      assert.equal(await pending, "still fine");
    });

    test("maxMessageSize must be a whole number of bytes; the default is 100 MiB", async () => {
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "1000", 10n]) {
        assert.throws(
          () => new Client(server.endpoint, { maxMessageSize: bad as number }),
          (error: unknown) => {
            assert.ok(error instanceof TypeError);
            assert.match(error.message, /^maxMessageSize must be a whole number of bytes in \[1, 9007199254740991\], got /);
            return true;
          },
        );
      }
      // The shared client has the default limit: 100 MiB of bytes make a request just above it.
      const defaultLimit = 100 * 1024 * 1024;
      await assert.rejects(client.call("upload", [new Uint8Array(defaultLimit)]), (error: unknown) => {
        assert.ok(error instanceof TooLargeError);
        assert.deepEqual([error.what, error.limit], ["request", defaultLimit]);
        assert.ok(error.size > defaultLimit);
        return true;
      });
      assert.equal(client.pendingCalls, 0);
    });
  });

  describe("an AbortSignal (CallOptions.signal)", () => {
    const records: RequestRecord[] = [];
    let aborting: Client;

    before(() => {
      aborting = new Client(server.endpoint, {
        heartbeatSeconds: QUIET_HEARTBEAT_SECONDS,
        afterRequest: (record) => records.push(record),
      });
    });

    after(() => aborting.close());

    /** The outcomes afterRequest saw since the last call, as `[method, kind]`. */
    const seen = () => records.splice(0).map((record) => [record.method, record.outcome.kind]);

    test("a call rejects with the signal's reason, its late answer is dropped, afterRequest sees it cancelled", async () => {
      const controller = new AbortController();
      const pending = aborting.call("slow", [1], { signal: controller.signal });
      const request = await server.receive();
      controller.abort();
      await assert.rejects(pending, { name: "AbortError" });
      assert.equal(aborting.pendingCalls, 0);
      await server.reply(request, "OK", ["too late"]);

      const reason = new Error("the user went away");
      const withReason = new AbortController();
      const second = aborting.call("slow", [2], { signal: withReason.signal });
      await server.receive();
      withReason.abort(reason);
      await assert.rejects(second, (error: unknown) => error === reason);

      // Aborting once the call has ended changes nothing.
      const afterwards = new AbortController();
      const third = aborting.call("add", [1, 2], { signal: afterwards.signal });
      await server.reply(await server.receive(), "OK", [3]);
      assert.equal(await third, 3);
      afterwards.abort();
      assert.deepEqual(seen(), [
        ["slow", "cancelled"],
        ["slow", "cancelled"],
        ["add", "returned"],
      ]);
    });

    test("a signal aborted already rejects the call before anything is sent", async () => {
      await assert.rejects(aborting.call("never", [], { signal: AbortSignal.abort() }), { name: "AbortError" });
      await assert.rejects(collect(aborting.stream("never", [], { signal: AbortSignal.abort(new Error("no")) })), /^Error: no$/);
      // Nothing was sent: the first request the server sees is this one.
      const pending = aborting.call("add", [2, 2]);
      const request = await server.receive();
      assert.equal(request.event.name, "add");
      await server.reply(request, "OK", [4]);
      assert.equal(await pending, 4);
      assert.deepEqual(seen(), [["add", "returned"]]);
    });

    test("a stream is cancelled before its first reply, and ended by its signal after it", async () => {
      const early = new AbortController();
      const unanswered = aborting.stream("count", [5], { signal: early.signal });
      const first = unanswered.next();
      await server.receive();
      early.abort();
      await assert.rejects(first, { name: "AbortError" });

      const late = new AbortController();
      const items = aborting.stream("count", [5], { signal: late.signal });
      const firstItem = items.next();
      const request = await server.receive();
      await server.reply(request, "STREAM", 0);
      await server.reply(request, "STREAM", 1);
      assert.deepEqual(await firstItem, { value: 0, done: false });
      late.abort(new Error("enough"));
      // Item 1 is not read, whether it had arrived or not.
      await assert.rejects(items.next(), /^Error: enough$/);
      assert.equal(aborting.pendingCalls, 0);
      assert.deepEqual(seen(), [
        ["count", "cancelled"],
        ["count", "stream"],
      ]);
    });

    test("a generated method passes the signal on, with its default time limit", async () => {
      const slow: MethodSpec<void> = { name: "slow", params: [], result: toVoid, resultType: "void", errors: [], timeoutSeconds: 60 };
      const controller = new AbortController();
      const pending = callMethod(aborting, slow, [], { signal: controller.signal });
      await server.receive();
      controller.abort();
      await assert.rejects(pending, { name: "AbortError" });
      assert.deepEqual(seen(), [["slow", "cancelled"]]);
    });

    test("a signal that is not an AbortSignal is refused with a TypeError", async () => {
      const notASignal = { signal: "stop" } as unknown as CallOptions;
      await assert.rejects(aborting.call("add", [1, 2], notASignal), /^TypeError: signal must be an AbortSignal, got 'stop'$/);
      assert.deepEqual(seen(), []);
    });
  });

  describe("heartbeats", () => {
    test("the client beats on each open channel with _zpc_hb [0]", async () => {
      const beating = new Client(server.endpoint, { heartbeatSeconds: 0.2 });
      try {
        const pending = beating.call("slow", []);
        const request = await server.receive();
        // Heartbeats of clients from earlier tests may still be queued (the ROUTER takes turns
        // between peers, not in order of arrival): read this client's own.
        let beat = await server.receive([]);
        while (Buffer.compare(beat.routingId, request.routingId) !== 0) {
          beat = await server.receive([]);
        }
        assert.equal(beat.event.name, "_zpc_hb");
        assert.deepEqual(beat.event.args, [0]);
        assert.deepEqual(Object.keys(beat.event.header), ["message_id", "v", "response_to"]);
        assert.deepEqual(beat.event.header["response_to"], request.event.header["message_id"]);
        assert.notDeepEqual(beat.event.header["message_id"], request.event.header["message_id"]);
        await server.reply(request, "OK", [1]);
        assert.equal(await pending, 1);
      } finally {
        beating.close();
      }
    });

    test("a server that never answers nor beats is lost after three intervals", async () => {
      const beating = new Client(server.endpoint, { heartbeatSeconds: 0.2, timeoutSeconds: null });
      try {
        const pending = beating.call("silent", []);
        await server.receive();
        await assert.rejects(pending, LostRemoteError);
        assert.equal(beating.pendingCalls, 0);
      } finally {
        beating.close();
      }
    });

    describe("heartbeatSeconds: null turns heartbeats off", () => {
      /** The request for `method` among the next requests, skipping others' (the ROUTER takes turns). */
      async function requestFor(method: string): Promise<ReceivedEvent> {
        for (;;) {
          const request = await server.receive();
          if (request.event.name === method) {
            return request;
          }
        }
      }
      const from = (request: ReceivedEvent) => (event: ReceivedEvent) =>
        Buffer.compare(event.routingId, request.routingId) === 0;

      test("no _zpc_hb is sent while a call is open (a 0.1 s client beats meanwhile)", async () => {
        const quiet = new Client(server.endpoint, { heartbeatSeconds: null, timeoutSeconds: null });
        const beating = new Client(server.endpoint, { heartbeatSeconds: 0.1, timeoutSeconds: null });
        try {
          const quietCall = quiet.call("quiet", []);
          const quietRequest = await requestFor("quiet");
          // The server never beats: the beating client sends two beats, then declares it lost.
          const beatingLost = assert.rejects(beating.call("loud", []), LostRemoteError);
          const beatingRequest = await requestFor("loud");
          const events = await server.receiveFor(500);
          assert.deepEqual(events.filter(from(quietRequest)), []);
          assert.ok(events.filter(from(beatingRequest)).some((each) => each.event.name === "_zpc_hb"));
          await beatingLost;
          await server.reply(quietRequest, "OK", ["quiet"]);
          assert.equal(await quietCall, "quiet");
        } finally {
          quiet.close();
          beating.close();
        }
      });

      test("a call answered after 1 s of silence succeeds; a 0.2 s client is lost meanwhile", async () => {
        const quiet = new Client(server.endpoint, { heartbeatSeconds: null, timeoutSeconds: null });
        const beating = new Client(server.endpoint, { heartbeatSeconds: 0.2, timeoutSeconds: null });
        try {
          const quietCall = quiet.call("quiet", []);
          const quietRequest = await requestFor("quiet");
          const beatingLost = assert.rejects(beating.call("silent", []), LostRemoteError);
          await requestFor("silent");
          await new Promise((resolve) => setTimeout(resolve, 1000));
          await beatingLost;
          assert.equal(quiet.pendingCalls, 1);
          await server.reply(quietRequest, "OK", ["late"]);
          assert.equal(await quietCall, "late");
        } finally {
          quiet.close();
          beating.close();
        }
      });

      test("no heartbeat timer runs: an hour of silence (mocked timers) does not lose the call", async () => {
        const quiet = new Client(server.endpoint, { heartbeatSeconds: null, timeoutSeconds: null });
        mock.timers.enable({ apis: ["setInterval", "setTimeout"] });
        try {
          const quietCall = quiet.call("quiet", []);
          const quietRequest = await requestFor("quiet");
          // The channel's heartbeats would start once the request is sent (see Channel.taken).
          await new Promise((resolve) => setImmediate(resolve));
          mock.timers.tick(3600 * 1000);
          mock.timers.reset();
          assert.equal(quiet.pendingCalls, 1);
          await server.reply(quietRequest, "OK", ["an hour later"]);
          assert.equal(await quietCall, "an hour later");
        } finally {
          mock.timers.reset();
          quiet.close();
        }
      });

      test("numbers are still checked as before", () => {
        for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "5"]) {
          assert.throws(
            () => new Client(server.endpoint, { heartbeatSeconds: bad as number }),
            /^TypeError: heartbeatSeconds must be a number of seconds in \(0, /,
          );
        }
      });
    });
  });
});
