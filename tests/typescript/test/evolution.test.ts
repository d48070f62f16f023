/**
 * The client generated from version 1 of the evolution fixture's stock service
 * (tests/fixtures/evolution) against a Rust server of version 2, which changes it only in ways
 * `rpcgen breaking` accepts: every call works, with the values version 1 expects. And the client
 * of version 2, whose optional parameter at the end a call may leave out.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client } from "../build/generated/rpcgen-runtime.js";
import { StockClient, Unknown, type Item } from "../build/generated/stock.js";
import { Client as ClientV2 } from "../build/stock-v2/rpcgen-runtime.js";
import { StockClient as StockClientV2 } from "../build/stock-v2/stock.js";
import { collect, rejection, startStockV2Server } from "./support/servers.js";

const SUITE_LIMIT_MS = 60_000;

describe("a version 1 client of a version 2 server", { timeout: SUITE_LIMIT_MS }, () => {
  test("every call works, with version 1's values", async () => {
    const server = await startStockV2Server();
    const connection = new Client(server.endpoint);
    const stock = new StockClient(connection);
    try {
      // Arguments the server now reads as wider types (u16 to u32, an enum with a new variant).
      assert.equal(await stock.add("bolt", 3, "Box"), 30);
      assert.equal(await stock.add("bolt", 2 ** 16 - 1, "Piece"), 65_565);
      // A result whose type was renamed, with a renamed field and a new one (shelf).
      const bolt: Item = { sku: "bolt", count: 65_565 };
      assert.deepEqual(await stock.get("bolt"), bolt);
      // A declared error with a new field.
      const unknown = await rejection(stock.get("bolts"));
      assert.ok(unknown instanceof Unknown, String(unknown));
      assert.deepEqual(unknown.fields, { sku: "bolts" });
      // A struct argument without the new optional field.
      const nut: Item = { sku: "nut", count: 5 };
      assert.deepEqual(await stock.put(nut), nut);
      // Stream items of the renamed type, and a result struct with a new field.
      assert.deepEqual(await collect(stock.all()), [bolt, nut]);
      assert.deepEqual(await stock.summary(), { items: 2 });
    } finally {
      connection.close();
      await server.stop();
    }
  });

  test("a version 2 client may leave out the optional parameter at the end", async () => {
    const server = await startStockV2Server();
    const connection = new ClientV2(server.endpoint);
    const stock = new StockClientV2(connection);
    try {
      await stock.put({ sku: "bolt", count: 3, shelf: "B2" });
      await stock.put({ sku: "nut", count: 5, shelf: null });
      const skus = async (items: AsyncIterable<{ sku: string }>): Promise<string[]> =>
        (await collect(items)).map((item) => item.sku);
      assert.deepEqual(await skus(stock.all()), ["bolt", "nut"]);
      assert.deepEqual(await skus(stock.all("B2")), ["bolt"]);
      assert.deepEqual(await skus(stock.all(null, { timeoutSeconds: 10 })), ["bolt", "nut"]);
    } finally {
      connection.close();
      await server.stop();
    }
  });
});
