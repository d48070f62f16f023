/**
 * The client generated from examples/shop/api/shop.rpc against the Rust example server built from
 * the same file (examples/shop, `shop-server`): every method, typed errors, streams, an untyped
 * error, timeouts, and a server killed during a call.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Client,
  LostRemoteError,
  logRequests,
  RemoteError,
  TimeoutExpiredError,
  type RequestRecord,
} from "../build/generated/rpcgen-runtime.js";
import { NotFound, Rejected, TicketsClient, type NewTicket, type Ticket } from "../build/generated/shop.js";
import { collect, rejection, startShopServer, type RunningServer } from "./support/servers.js";

const HEARTBEAT_SECONDS = 1;
const SUITE_LIMIT_MS = 90_000;

const URGENT: NewTicket = {
  title: "Printer on fire",
  body: "Smoke since 9:00",
  tags: ["hardware", "urgent"],
  priority: "High",
  price: { cents: 2n ** 53n + 1n, currency: "EUR" },
};
const MINOR: NewTicket = { title: "Typo", body: null, tags: [], priority: "Low", price: null };

describe("generated client against the Rust example server", { timeout: SUITE_LIMIT_MS }, () => {
  let server: RunningServer;
  let connection: Client;
  let tickets: TicketsClient;
  let urgent: Ticket;
  let minor: Ticket;

  before(async () => {
    server = await startShopServer(HEARTBEAT_SECONDS);
    connection = new Client(server.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
    tickets = new TicketsClient(connection);
  });

  after(async () => {
    connection.close();
    await server.stop();
  });

  test("open returns the new ticket, with its id and every field", async () => {
    minor = await tickets.open(MINOR);
    urgent = await tickets.open(URGENT);
    assert.equal(typeof urgent.id, "bigint");
    assert.notEqual(urgent.id, minor.id);
    assert.deepEqual(urgent, {
      id: urgent.id,
      title: URGENT.title,
      body: URGENT.body,
      tags: URGENT.tags,
      priority: "High",
      attachment: null,
      extra: { source: "rpcgen example" },
      price: URGENT.price,
    });
  });

  test("a refused ticket is the typed Rejected error", async () => {
    const error = await rejection(tickets.open({ ...MINOR, title: " " }));
    assert.ok(error instanceof Rejected, String(error));
    assert.ok(error instanceof RemoteError);
    assert.deepEqual(error.fields, { message: "a ticket needs a title", field: "title" });
  });

  test("get, attach and first", async () => {
    assert.deepEqual(await tickets.get(urgent.id), urgent);
    await tickets.attach(urgent.id, new Uint8Array([0, 1, 255]));
    assert.deepEqual((await tickets.get(urgent.id)).attachment, new Uint8Array([0, 1, 255]));
    assert.deepEqual(await tickets.first(), minor);
  });

  test("an unknown id is the typed NotFound error, for every method that declares it", async () => {
    const missing = 2n ** 64n - 1n;
    // Each rejection is taken at once: one that came while the loop awaited another would be unhandled.
    const errors = [
      rejection(tickets.get(missing)),
      rejection(tickets.attach(missing, new Uint8Array())),
      rejection(tickets.moveTo(missing, "support")),
      rejection(tickets.close(missing, "nothing to close")),
    ];
    for (const error of await Promise.all(errors)) {
      assert.ok(error instanceof NotFound, String(error));
      assert.deepEqual(error.fields, { id: missing });
    }
  });

  test("an afterRequest hook knows the errors each method declares, and logRequests logs them as answers", async () => {
    const records: RequestRecord[] = [];
    const lines: string[] = [];
    const log = logRequests({ info: (line) => lines.push(`INFO ${line}`), warn: (line) => lines.push(`WARN ${line}`) });
    const watched = new Client(server.endpoint, {
      heartbeatSeconds: HEARTBEAT_SECONDS,
      afterRequest: (record) => {
        records.push(record);
        log(record);
      },
    });
    try {
      const client = new TicketsClient(watched);
      const missing = 2n ** 64n - 1n;
      assert.ok((await rejection(client.get(missing))) instanceof NotFound);
      assert.ok((await rejection(client.report(1000))) instanceof RemoteError);
    } finally {
      watched.close();
    }
    assert.deepEqual(
      records.map(({ method, errors }) => [method, errors]),
      [
        ["get", ["NotFound"]],
        ["report", []],
      ],
    );
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(lines[0] ?? "", /^INFO get\(18446744073709551615n\) returned a declared error in .*: RemoteError: NotFound: /);
    assert.match(lines[1] ?? "", /^WARN report\(1000\) failed in .*: RemoteError: ValueError: /);
  });

  test("list streams tickets, most urgent first, filtered by priority", async () => {
    assert.deepEqual(
      (await collect(tickets.list(null))).map((ticket) => ticket.id),
      [urgent.id, minor.id],
    );
    assert.deepEqual(
      (await collect(tickets.list("Normal"))).map((ticket) => ticket.title),
      [URGENT.title],
    );
  });

  test("stats counts by priority, keyed by the enum", async () => {
    assert.deepEqual(await tickets.stats(), { Low: 1n, High: 1n });
  });

  test("moveTo, close and history: every kind of event", async () => {
    await tickets.moveTo(minor.id, "second line");
    await tickets.close(minor.id, "fixed");
    assert.deepEqual(await collect(tickets.history()), [
      { Opened: minor },
      { Opened: urgent },
      { Moved: [minor.id, "second line"] },
      { Closed: { id: minor.id, reason: "fixed" } },
    ]);
    await assert.rejects(tickets.get(minor.id), NotFound);
  });

  test("an untyped server error stays a RemoteError", async () => {
    const error = await rejection(tickets.report(1000));
    assert.ok(error instanceof RemoteError, String(error));
    assert.equal(error.remoteName, "ValueError");
  });

  test("report returns when it is done, or times out", async () => {
    assert.equal(await tickets.report(0.01), "1 open tickets");
    const error = await rejection(tickets.report(5, { timeoutSeconds: 0.3 }));
    assert.ok(error instanceof TimeoutExpiredError, String(error));
  });
});

describe("generated client against a Rust server that dies", { timeout: SUITE_LIMIT_MS }, () => {
  test("a call in progress fails with LostRemoteError", async () => {
    const server = await startShopServer(HEARTBEAT_SECONDS);
    const connection = new Client(server.endpoint, { heartbeatSeconds: HEARTBEAT_SECONDS });
    try {
      const tickets = new TicketsClient(connection);
      assert.deepEqual(await tickets.stats(), {});
      const pending = rejection(tickets.report(30));
      // Requests arrive in order: once a later call is answered, the server has the report (a
      // request the client could not send before the server died would wait for it instead).
      assert.deepEqual(await tickets.stats(), {});
      server.kill();
      const error = await pending;
      assert.ok(error instanceof LostRemoteError, String(error));
    } finally {
      connection.close();
      await server.stop();
    }
  });
});
