/**
 * A server that answers a burst of requests and closes at once, run in a process of its own by
 * test/client-closing.test.ts, so that its replies reach the client just before the connection
 * drops, as those of a server that answers and exits.
 *
 * For each line `requests answers` on its stdin, it binds a ROUTER to a free port on 127.0.0.1,
 * writes the endpoint on a line of its stdout, waits for `requests` requests, answers the first
 * `answers` of them, each with `OK [its first argument]`, and closes the socket: ZeroMQ writes the
 * replies out, then closes the connection.
 */

import { createInterface } from "node:readline";
import { encode } from "@msgpack/msgpack";
import { Router } from "zeromq";
import { decodeEvent } from "../../src/rpcgen-runtime.js";

/** Long enough for ZeroMQ to write every reply out after the socket is closed. */
const LINGER_MS = 10_000;
/** No limit on the replies queued for a client: a ROUTER drops the replies above its limit. */
const NO_HIGH_WATER_MARK = 0;
const DELIMITER = new Uint8Array(0);

/** Binds a ROUTER, prints its endpoint, answers `answers` of `requests` requests and closes the ROUTER. */
async function answerAndClose(requests: number, answers: number): Promise<void> {
  const socket = new Router({ linger: LINGER_MS, sendHighWaterMark: NO_HIGH_WATER_MARK });
  await socket.bind("tcp://127.0.0.1:*");
  console.log(socket.lastEndpoint);
  const received: Uint8Array[][] = [];
  while (received.length < requests) {
    received.push(await socket.receive());
  }
  for (const [index, [routingId, ...frames]] of received.slice(0, answers).entries()) {
    const request = decodeEvent(frames[frames.length - 1] ?? DELIMITER);
    const header = { message_id: `reply-${index}`, v: 3, response_to: request.header["message_id"] };
    const value: unknown = Array.isArray(request.args) ? request.args[0] : null;
    await socket.send([routingId ?? DELIMITER, DELIMITER, encode([header, "OK", [value]])]);
  }
  socket.close();
}

for await (const line of createInterface({ input: process.stdin })) {
  const [requests = 0, answers = 0] = line.split(" ").map(Number);
  await answerAndClose(requests, answers);
}
