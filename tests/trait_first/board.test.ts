// The TypeScript client generated with `rpcgen generate --from-rust` from
// examples/trait-first/src/board.rs, calling the trait-first Rust server (board-server).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { test } from "node:test";

import { BoardClient, NoSuchNote } from "./build/board_api/board.js";
import { Client } from "./build/board_api/rpcgen-runtime.js";

/** Starts board-server on 127.0.0.1 and resolves with its endpoint and a way to stop it. */
async function startServer(): Promise<{ endpoint: string; stop: () => void }> {
  const binary = process.env["RPCGEN_BOARD_SERVER"];
  assert.ok(binary, "RPCGEN_BOARD_SERVER names the board-server binary");
  const server = spawn(binary, ["tcp://127.0.0.1:0"], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: server.stdout });
  const first: string = await new Promise((resolve, reject) => {
    lines.once("line", resolve);
    server.once("exit", (code) => reject(new Error(`board-server exited with ${code}`)));
  });
  const [ready, endpoint] = first.split(" ");
  assert.equal(ready, "READY");
  assert.ok(endpoint);
  return { endpoint, stop: () => server.stdin.end() };
}

test("every method from TypeScript", async () => {
  const server = await startServer();
  const connection = new Client(server.endpoint);
  try {
    const board = new BoardClient(connection);
    const milk = await board.pin("milk", "pink", ["shopping"]);
    assert.equal(milk.id, 1n);
    assert.equal(milk.colour, "pink");
    await board.attach(milk.id, new Uint8Array([0, 255]));
    assert.deepEqual((await board.get(milk.id)).attachment, new Uint8Array([0, 255]));
    await assert.rejects(board.get(42n), (error: unknown) => error instanceof NoSuchNote && error.fields.id === 42n);
    const ids: bigint[] = [];
    for await (const note of await board.notes()) {
      ids.push(note.id);
    }
    assert.deepEqual(ids, [1n]);
    await board.remove(milk.id);
    await assert.rejects(board.remove(milk.id), NoSuchNote);
  } finally {
    connection.close();
    server.stop();
  }
});
