/**
 * The client against a server that answers a burst of calls and closes at once
 * (test/support/answer-and-close.ts, in a process of its own): the replies that arrived before the
 * connection dropped reach their calls, and the calls left unanswered end in LostRemoteError when
 * it drops.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "../src/rpcgen-runtime.js";

const serverScript = join(dirname(fileURLToPath(import.meta.url)), "support/answer-and-close.js");
/**
 * Rounds of calls, each to a new server, and the calls of each round: thousands, so that the client
 * is still reading replies when the drop is reported (zeromq.js takes at most 512 messages in a row
 * before it lets the event loop run). Measured: the runtime of 7cfff13 lost replies in every run,
 * and so did one that read nothing, or only for one turn of the event loop, after the drop.
 */
const ROUNDS = 5;
const CALLS = 3000;
/** How many calls of each round the server answers before it closes. */
const ANSWERED = 2000;

test("replies that arrive just before the server closes reach their calls; the others are lost at once", { timeout: 60_000 }, async () => {
  const server = spawn(process.execPath, [serverScript], { stdio: ["pipe", "pipe", "inherit"] });
  const endpoints = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      server.stdin.write(`${CALLS} ${ANSWERED}\n`);
      const { value: endpoint } = await endpoints.next();
      assert.equal(typeof endpoint, "string");
      // No heartbeats and no time limit: a call ends with its reply or with the dropped connection.
      const client = new Client(endpoint as string, { heartbeatSeconds: null, timeoutSeconds: null });
      try {
        const calls = Array.from({ length: CALLS }, (_, index) => client.call("echo", [index]));
        const outcomes = await Promise.allSettled(calls);
        const seen = outcomes.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : (outcome.reason as Error).name));
        // The server gets the requests in the order of the calls and answers the first ones.
        const expected = Array.from({ length: CALLS }, (_, index) => (index < ANSWERED ? index : "LostRemoteError"));
        assert.deepEqual(seen, expected, `round ${round}`);
      } finally {
        client.close();
      }
    }
  } finally {
    server.stdin.end();
  }
});
