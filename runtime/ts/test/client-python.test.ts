/**
 * The client against the real zerorpc-python server (tests/fixtures/zerorpc_peer.py): values of
 * every kind, errors, streams, heartbeats, timeouts, lost remotes, reconnection, concurrency, and
 * a script that exits by itself after closing.
 */

import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  callMethod,
  Client,
  ClientClosedError,
  type ClientOptions,
  logRequests,
  LostRemoteError,
  encodeRequest,
  ProtocolError,
  RemoteError,
  type RequestRecord,
  TimeoutExpiredError,
  toF64,
  TooLargeError,
  type MethodSpec,
} from "../src/rpcgen-runtime.js";
import { collect, rejectsRemotely } from "./support/calls.js";
import { freePort, startPythonPeer, type Peer } from "./support/peers.js";

/** Heartbeat of the shared peer and clients: short, so that heartbeat tests stay quick. */
const HEARTBEAT_SECONDS = 1;
/** Hang guard for single tests (never an assertion on speed). */
const TEST_LIMIT_MS = 60_000;

describe("client against zerorpc-python", { timeout: TEST_LIMIT_MS }, () => {
  let peer: Peer;
  let client: Client;

  before(async () => {
    peer = await startPythonPeer(HEARTBEAT_SECONDS);
    client = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
  });

  after(async () => {
    client.close();
    await peer.stop();
  });

  test("hello and add", async () => {
    assert.equal(await client.call("hello", ["world"]), "Hello, world");
    assert.equal(await client.call("add", [2, 3]), 5);
    assert.equal(await client.call("add", [0.5, 0.25]), 0.75);
    assert.equal(await client.call("add", [2n ** 62n, 2n ** 62n]), 2n ** 63n);
  });

  describe("echo returns every kind of value", () => {
    const cases: [string, unknown, unknown][] = [
      ["nil", null, null],
      ["true", true, true],
      ["false", false, false],
      ["small int", 42, 42],
      ["negative int", -300, -300],
      ["uint32", 2 ** 32 - 1, 2 ** 32 - 1],
      ["float", 1.5, 1.5],
      ["string", "héllo ✓", "héllo ✓"],
      ["empty string", "", ""],
      ["bytes", new Uint8Array([0, 1, 255]), new Uint8Array([0, 1, 255])],
      ["empty list", [], []],
      ["nested list", [1, [2, [3, "x"]]], [1, [2, [3, "x"]]]],
      ["nested map", { a: { b: { c: null, d: [true] } } }, { a: { b: { c: null, d: [true] } } }],
      ["2^63 + 5 as bigint", 2n ** 63n + 5n, 2n ** 63n + 5n],
      ["-2^63 as bigint", -(2n ** 63n), -(2n ** 63n)],
      ["2^64 - 1 as bigint", 2n ** 64n - 1n, 2n ** 64n - 1n],
      ["2^40 as a number comes back 64-bit encoded, so as a bigint", 2 ** 40, 2n ** 40n],
      ["a small bigint comes back as a number", 5n, 5],
    ];
    for (const [label, sent, expected] of cases) {
      test(label, async () => assert.deepEqual(await client.call("echo", [sent]), expected));
    }
  });

  test("whole f64 arguments reach Python as floats: -0 keeps its sign, and additions round as floats do", async () => {
    /** `method(f64, …) -> f64` as a generated client describes it. */
    const floats = (name: string, params: string[]): MethodSpec<number> => ({
      name,
      params: params.map((param) => ({ name: param, convert: toF64 })),
      result: toF64,
      resultType: "f64",
      errors: [],
    });
    assert.ok(Object.is(await callMethod(client, floats("echo", ["x"]), [-0]), -0));
    // As Python ints, 2^53 - 1 + 2 would be exact, come back as a uint64 and not fit a number.
    assert.equal(await callMethod(client, floats("add", ["a", "b"]), [2 ** 53 - 1, 2]), 2 ** 53);
  });

  test("sample() returns one value of every MessagePack kind", async () => {
    assert.deepEqual(await client.call("sample", []), {
      nil: null,
      true: true,
      false: false,
      small: 7,
      negative: -3,
      big: 2n ** 63n + 5n,
      min_i64: -(2n ** 63n),
      float: 1.5,
      text: "héllo",
      bytes: new Uint8Array([0, 1, 255]),
      list: [1, "two", 3],
      map: { a: 1, b: [true, null] },
    });
  });

  test("nothing() resolves to null", async () => {
    assert.equal(await client.call("nothing", []), null);
  });

  test("bytes travel as bin", async () => {
    assert.equal(await client.call("byte_len", [new Uint8Array(70_000)]), 70_000);
  });

  test("a raised exception rejects with RemoteError carrying name, message and traceback", async () => {
    const error = await rejectsRemotely(client.call("fail", ["boom"]), "ValueError");
    assert.equal(error.remoteMessage, "boom");
    assert.equal(error.message, "ValueError: boom");
    assert.match(error.remoteTraceback ?? "", /^Traceback \(most recent call last\):\n[\s\S]*ValueError: boom\n$/);
  });

  test("an unknown method rejects with RemoteError NameError", async () => {
    const error = await rejectsRemotely(client.call("nosuch", []), "NameError");
    assert.equal(error.remoteMessage, "nosuch");
  });

  test("count(1000) streams 0..999", async () => {
    const items = await collect(client.stream<number>("count", [1000]));
    assert.deepEqual(items, Array.from({ length: 1000 }, (_, index) => index));
  });

  test("empty_stream() streams nothing", async () => {
    assert.deepEqual(await collect(client.stream("empty_stream", [])), []);
  });

  test("breaking out of a stream early ends its call", async () => {
    const seen: number[] = [];
    for await (const item of client.stream<number>("count", [1000])) {
      seen.push(item);
      if (item === 4) {
        break;
      }
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4]);
    assert.equal(client.pendingCalls, 0);
    assert.equal(await client.call("hello", ["again"]), "Hello, again");
  });

  test("an error raised by a stream rejects the iteration", async () => {
    await rejectsRemotely(collect(client.stream("count", ["not a number"])), "TypeError");
  });

  test("stream() of a plain method yields its value", async () => {
    assert.deepEqual(await collect(client.stream("hello", ["stream"])), ["Hello, stream"]);
  });

  test("call() of a streaming method rejects with a ProtocolError", async () => {
    await assert.rejects(client.call("count", [3]), (error: unknown) => {
      assert.ok(error instanceof ProtocolError);
      assert.match(error.message, /"count" on tcp:\/\/127\.0\.0\.1:\d+ answered with a stream: use stream\(\)/);
      return true;
    });
    assert.equal(client.pendingCalls, 0);
  });

  test("requestHeader entries reach zerorpc-python's middleware, each from its caller's context", async () => {
    const traceIds = new AsyncLocalStorage<string>();
    const methods: string[] = [];
    const traced = new Client(peer.endpoint, {
      heartbeatSeconds: HEARTBEAT_SECONDS,
      requestHeader: (method) => {
        methods.push(method);
        return { trace_id: traceIds.getStore() ?? null, message_id: "forged", v: 9 };
      },
    });
    try {
      const seen = await Promise.all(
        Array.from({ length: 20 }, (_, n) => traceIds.run(`t-${n}`, () => traced.call("header_entry", ["trace_id"]))),
      );
      assert.deepEqual(seen, Array.from({ length: 20 }, (_, n) => `t-${n}`));
      // The protocol's keys stay the runtime's.
      assert.equal(await traced.call("header_entry", ["v"]), 3);
      assert.ok((await traced.call("header_entry", ["message_id"])) instanceof Uint8Array);
      assert.deepEqual(await collect(traced.stream("count", [2])), [0, 1]);
      assert.deepEqual(methods.slice(-3), ["header_entry", "header_entry", "count"]);
    } finally {
      traced.close();
    }
    const badEntries = new Client(peer.endpoint, { requestHeader: () => null as unknown as Record<string, unknown> });
    try {
      await assert.rejects(
        badEntries.call("hello", ["x"]),
        /requestHeader must return an object of header entries, got null/,
      );
    } finally {
      badEntries.close();
    }
  });

  test("maxMessageSize: a request above it is refused, a reply above it fails its call", async () => {
    const limit = 1000;
    const limited = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS, maxMessageSize: limit });
    try {
      // A name that makes the request for hello(name) exactly `limit` bytes (past 255 characters,
      // each character adds one byte); the reply, "Hello, " + name with the longer header of a
      // reply, is a few dozen bytes more.
      const requestSize = (name: string) => encodeRequest("0".repeat(32), "hello", [name]).byteLength;
      const name = "n".repeat(limit - requestSize("n".repeat(256)) + 256);
      assert.equal(requestSize(name), limit);
      await assert.rejects(limited.call("hello", [`${name}!`]), (error: unknown) => {
        assert.ok(error instanceof TooLargeError);
        assert.deepEqual([error.what, error.size, error.limit], ["request", limit + 1, limit]);
        assert.match(error.message, /^the request for "hello" on tcp:\S+ is 1001 bytes, above the limit of 1000 bytes/);
        return true;
      });
      await assert.rejects(limited.call("hello", [name]), (error: unknown) => {
        assert.ok(error instanceof TooLargeError);
        assert.deepEqual([error.what, error.limit], ["reply", limit]);
        assert.ok(error.size > limit);
        assert.match(error.message, /^the reply to "hello" on tcp:\S+ is \d+ bytes, above the limit of 1000 bytes/);
        return true;
      });
      assert.equal(limited.pendingCalls, 0);
      // The client carries on, and the limit leaves room for ordinary calls and streams.
      assert.equal(await limited.call("hello", ["world"]), "Hello, world");
      assert.deepEqual(await collect(limited.stream("count", [3])), [0, 1, 2]);
      // The same call fits a client with the default limit.
      assert.equal(await client.call("hello", [name]), `Hello, ${name}`);
    } finally {
      limited.close();
    }
  });

  test("afterRequest sees every request end once: returned, failed, timed out, streamed, cancelled", async () => {
    const records: RequestRecord[] = [];
    const observed = new Client(peer.endpoint, {
      heartbeatSeconds: HEARTBEAT_SECONDS,
      afterRequest: (record) => records.push(record),
    });
    try {
      assert.equal(await observed.call("add", [2, 3]), 5);
      await rejectsRemotely(observed.call("fail", ["boom"]), "ValueError");
      await assert.rejects(observed.call("slow", [3], { timeoutSeconds: 0.3 }), TimeoutExpiredError);
      const items = observed.stream("count", [3]);
      const first = await items.next();
      assert.deepEqual(first, { value: 0, done: false });
      assert.equal(records.length, 4, "a stream is recorded at its first reply");
      assert.deepEqual(await collect(items), [1, 2]);
      await assert.rejects(collect(observed.stream("fail", ["early"])), RemoteError);
      // Leaving at the first item closes the call (and records it once).
      for await (const item of observed.stream("count", [50])) {
        assert.equal(item, 0);
        break;
      }
      // AbortSignal.timeout aborts with a TimeoutError DOMException: the caller's, not the client's.
      await assert.rejects(observed.call("slow", [3], { signal: AbortSignal.timeout(300) }), { name: "TimeoutError" });
      assert.equal(observed.pendingCalls, 0);
    } finally {
      observed.close();
    }
    assert.deepEqual(
      records.map(({ method, args, endpoint, outcome }) => [method, args, endpoint, outcome.kind]),
      [
        ["add", [2, 3], peer.endpoint, "returned"],
        ["fail", ["boom"], peer.endpoint, "failed"],
        ["slow", [3], peer.endpoint, "failed"],
        ["count", [3], peer.endpoint, "stream"],
        ["fail", ["early"], peer.endpoint, "failed"],
        ["count", [50], peer.endpoint, "stream"],
        ["slow", [3], peer.endpoint, "cancelled"],
      ],
    );
    const [returned, remote, timedOut] = records.map((record) => record.outcome);
    assert.deepEqual(returned, { kind: "returned", value: 5 });
    assert.ok(remote?.kind === "failed" && remote.error instanceof RemoteError);
    assert.ok(timedOut?.kind === "failed" && timedOut.error instanceof TimeoutExpiredError);
    assert.ok(records.every((record) => record.elapsedMs >= 0));
  });

  test("an afterRequest hook that throws changes no call's outcome: it becomes a process warning", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    const broken = new Client(peer.endpoint, {
      heartbeatSeconds: HEARTBEAT_SECONDS,
      afterRequest: () => {
        throw new Error("metrics are down");
      },
    });
    // An async hook's rejection is not left unhandled (Node would exit): it warns the same way.
    const brokenAsync = new Client(peer.endpoint, {
      heartbeatSeconds: HEARTBEAT_SECONDS,
      afterRequest: async () => {
        await Promise.resolve();
        throw new Error("the metrics queue is full");
      },
    });
    try {
      assert.equal(await broken.call("add", [1, 1]), 2);
      await rejectsRemotely(broken.call("fail", ["still a ValueError"]), "ValueError");
      assert.equal(await brokenAsync.call("add", [2, 2]), 4);
      // Warnings are emitted on a later tick.
      while (warnings.length < 3) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      broken.close();
      brokenAsync.close();
      process.off("warning", onWarning);
    }
    assert.deepEqual(warnings, [
      "the afterRequest hook failed on add: metrics are down",
      "the afterRequest hook failed on fail: metrics are down",
      "the afterRequest hook failed on add: the metrics queue is full",
    ]);
  });

  test("logRequests writes one line per request", async () => {
    const lines: string[] = [];
    const logged = new Client(peer.endpoint, {
      heartbeatSeconds: HEARTBEAT_SECONDS,
      afterRequest: logRequests({
        info: (line) => lines.push(`INFO ${line}`),
        warn: (line) => lines.push(`WARN ${line}`),
        maxValueChars: 20,
      }),
    });
    try {
      await logged.call("hello", ["world"]);
      await logged.call("echo", ["x".repeat(50)]);
      await collect(logged.stream("count", [2]));
      await rejectsRemotely(logged.call("fail", ["boom"]), "ValueError");
      await rejectsRemotely(logged.call("fail", ["expected"], { errors: ["ValueError"] }), "ValueError");
      await assert.rejects(logged.call("slow", [3], { signal: AbortSignal.timeout(100) }), { name: "TimeoutError" });
    } finally {
      logged.close();
    }
    const at = ` ms from ${peer.endpoint.replace(/[.]/g, "\\.")}`;
    const expected = [
      `INFO hello\\('world'\\) -> 'Hello, world' in \\d+\\.\\d\\d${at}`,
      `INFO echo\\('xxxxxxxxxxxxxxxxxxx…\\) -> 'xxxxxxxxxxxxxxxxxxx… in \\d+\\.\\d\\d${at}`,
      `INFO count\\(2\\) -> stream in \\d+\\.\\d\\d${at}`,
      `WARN fail\\('boom'\\) failed in \\d+\\.\\d\\d${at}: RemoteError: ValueError: boom`,
      `INFO fail\\('expected'\\) returned a declared error in \\d+\\.\\d\\d${at}: RemoteError: ValueError: expected`,
      `INFO slow\\(3\\) cancelled by the caller in \\d+\\.\\d\\d${at}`,
    ];
    assert.equal(lines.length, expected.length, lines.join("\n"));
    lines.forEach((line, index) => assert.match(line, new RegExp(`^${expected[index] ?? ""}$`)));
    assert.throws(() => logRequests({ maxValueChars: -1 }), RangeError);
  });

  test("200 concurrent calls on one client", async () => {
    const calls = Array.from({ length: 200 }, (_, index) => client.call<number>("add", [index, 1000]));
    assert.deepEqual(await Promise.all(calls), Array.from({ length: 200 }, (_, index) => index + 1000));
    assert.equal(client.pendingCalls, 0);
  });

  describe("time", { concurrency: true }, () => {
    test("slow(3.5), longer than three heartbeat intervals, succeeds", async () => {
      assert.equal(await client.call("slow", [3.5]), 3.5);
    });

    test("a per-call timeout rejects with TimeoutExpiredError", async () => {
      await assert.rejects(client.call("slow", [5], { timeoutSeconds: 1 }), (error: unknown) => {
        assert.ok(error instanceof TimeoutExpiredError);
        assert.match(error.message, /^timeout after 1s waiting for the reply to "slow" on tcp:/);
        return true;
      });
    });

    test("a timeout before the client ever connected says so, naming its servers", async () => {
      const endpoint = `tcp://127.0.0.1:${await freePort()}`;
      const other = `tcp://127.0.0.1:${await freePort()}`;
      const nobody = new Client(endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: 0.3 });
      const nobodies = new Client([endpoint, other], { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: 0.3 });
      try {
        await assert.rejects(nobody.call("add", [1, 2]), (error: unknown) => {
          assert.ok(error instanceof TimeoutExpiredError);
          assert.deepEqual(error.neverConnected, [endpoint]);
          assert.equal(
            error.message,
            `timeout after 0.3s waiting for the reply to "add" on ${endpoint}: never connected to \`${endpoint}\` ` +
              "(is a zerorpc server running and listening there?)",
          );
          return true;
        });
        await assert.rejects(collect(nobody.stream("count", [3])), { name: "TimeoutExpiredError", neverConnected: [endpoint] });
        await assert.rejects(nobodies.call("add", [1, 2]), (error: unknown) => {
          assert.ok(error instanceof TimeoutExpiredError);
          assert.deepEqual(error.neverConnected, [endpoint, other]);
          const reason = `: never connected to any of \`${endpoint}\`, \`${other}\` (are zerorpc servers running and listening there?)`;
          assert.ok(error.message.endsWith(reason), error.message);
          return true;
        });
      } finally {
        nobody.close();
        nobodies.close();
      }
    });

    test("a port where something other than a ZeroMQ peer listens counts as never connected", async () => {
      // A plain TCP server takes the connection but never completes ZeroMQ's handshake.
      const accepted: Socket[] = [];
      const listener = createServer((socket) => accepted.push(socket));
      await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
      const address = listener.address();
      assert.ok(typeof address === "object" && address !== null);
      const endpoint = `tcp://127.0.0.1:${address.port}`;
      const client = new Client(endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: 0.3 });
      try {
        await assert.rejects(client.call("hello", ["x"]), { name: "TimeoutExpiredError", neverConnected: [endpoint] });
      } finally {
        client.close();
        accepted.forEach((socket) => socket.destroy());
        await new Promise((resolve) => listener.close(resolve));
      }
    });

    test("a timeout after the server answered once, then was slow or killed, does not say never connected", async () => {
      const server = await startPythonPeer(HEARTBEAT_SECONDS);
      const client = new Client(server.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: 0.3 });
      try {
        assert.equal(await client.call("hello", ["once"]), "Hello, once");
        await assert.rejects(client.call("slow", [5]), (error: unknown) => {
          assert.ok(error instanceof TimeoutExpiredError);
          assert.equal(error.neverConnected, undefined);
          assert.equal(error.message, `timeout after 0.3s waiting for the reply to "slow" on ${server.endpoint}`);
          return true;
        });
        // A call in flight ends when the connection drops; the next one waits for the server.
        const inFlight = client.call("slow", [30], { timeoutSeconds: null });
        // Requests arrive in order: once a later call is answered, the server has the slow one.
        assert.equal(await client.call("hello", ["after"]), "Hello, after");
        server.kill();
        await assert.rejects(inFlight, LostRemoteError);
        await assert.rejects(client.call("hello", ["anyone?"]), (error: unknown) => {
          assert.ok(error instanceof TimeoutExpiredError);
          assert.equal(error.neverConnected, undefined);
          return true;
        });
      } finally {
        client.close();
        await server.stop();
      }
    });

    test("the client's default timeout applies to every call", async () => {
      const impatient = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: 0.5 });
      try {
        await assert.rejects(impatient.call("slow", [5]), TimeoutExpiredError);
        assert.equal(await impatient.call("slow", [0.1], { timeoutSeconds: null }), 0.1);
      } finally {
        impatient.close();
      }
    });

    test("a server killed mid-call rejects with LostRemoteError", async () => {
      const doomed = await startPythonPeer(HEARTBEAT_SECONDS);
      const doomedClient = new Client(doomed.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: null });
      try {
        assert.equal(await doomedClient.call("hello", ["first"]), "Hello, first");
        const pending = doomedClient.call("slow", [30]);
        setTimeout(() => doomed.kill(), 300);
        await assert.rejects(pending, (error: unknown) => {
          assert.ok(error instanceof LostRemoteError);
          // The dropped connection tells at once, before the heartbeats would (over 2s).
          assert.match(error.message, /^lost remote: the connection to tcp:\/\/127\.0\.0\.1:\d+ dropped during "slow"/);
          return true;
        });
      } finally {
        doomedClient.close();
        await doomed.stop();
      }
    });

    test("a call made before the server is up waits for it", async () => {
      // The late server uses a longer heartbeat, so that Python's start-up fits in the window.
      const lateHeartbeat = 3;
      const endpoint = `tcp://127.0.0.1:${await freePort()}`;
      const early = new Client(endpoint, { heartbeatSeconds: lateHeartbeat });
      const pending = early.call("hello", ["early"]);
      const late = await startPythonPeer(lateHeartbeat, endpoint);
      try {
        assert.equal(await pending, "Hello, early");
      } finally {
        early.close();
        await late.stop();
      }
    });
  });

  describe("closing", () => {
    test("close() rejects pending calls and later calls with ClientClosedError", async () => {
      const closing = new Client(peer.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
      const pending = closing.call("slow", [10]);
      closing.close();
      closing.close();
      await assert.rejects(pending, /the client was closed while waiting for "slow" on tcp:/);
      await assert.rejects(closing.call("hello", ["x"]), ClientClosedError);
      await assert.rejects(collect(closing.stream("count", [1])), ClientClosedError);
      assert.equal(closing.pendingCalls, 0);
    });

    test("a script that calls, then closes, exits by itself", async () => {
      const script = join(dirname(fileURLToPath(import.meta.url)), "support/call-and-close.js");
      const deadEndpoint = `tcp://127.0.0.1:${await freePort()}`;
      const child = spawn(process.execPath, [script, peer.endpoint, deadEndpoint], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
      child.stderr.setEncoding("utf8").on("data", (text: string) => (output += text));
      const hangGuard = setTimeout(() => child.kill("SIGKILL"), 20_000);
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
        child.on("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
      );
      clearTimeout(hangGuard);
      assert.equal(signal, null, `the script did not exit by itself; output:\n${output}`);
      assert.equal(code, 0, output);
      assert.equal(output, "Hello, child\nfirst item 0, 3 pending calls closed\n");
    });
  });

  test("invalid endpoints and options are refused with a TypeError", () => {
    assert.throws(() => new Client("not an endpoint"), /cannot connect to "not an endpoint"/);
    assert.throws(() => new Client(peer.endpoint, { heartbeatSeconds: 0 }), /heartbeatSeconds must be/);
    assert.throws(() => new Client(peer.endpoint, { timeoutSeconds: -1 }), TypeError);
    const notAFunction = { requestHeader: "trace" } as unknown as ClientOptions;
    assert.throws(() => new Client(peer.endpoint, notAFunction), /requestHeader must be a function, got 'trace'/);
  });

  test("an invalid method or argument list is refused", async () => {
    await assert.rejects(client.call("", []), /method name must be a non-empty string/);
    await assert.rejects(client.call("echo", [2n ** 64n]), RangeError);
    assert.equal(client.pendingCalls, 0);
  });
});
