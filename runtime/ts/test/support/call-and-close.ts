/**
 * A script for the "exits by itself" test: it calls the server at argv[2], leaves a call, a
 * stream and a call to a dead endpoint (argv[3]) pending, closes both clients and prints what it
 * got. Node must then exit on its own.
 */

import { Client, ClientClosedError } from "../../src/rpcgen-runtime.js";

const [liveEndpoint, deadEndpoint] = process.argv.slice(2);
if (liveEndpoint === undefined || deadEndpoint === undefined) {
  throw new Error("usage: call-and-close.js <live endpoint> <dead endpoint>");
}

const live = new Client(liveEndpoint, { heartbeatSeconds: 1 });
const dead = new Client(deadEndpoint, { heartbeatSeconds: 1 });
console.log(await live.call("hello", ["child"]));

const stream = live.stream<number>("count", [1000]);
const first = await stream.next();
const pending = [live.call("slow", [30]), stream.next(), dead.call("hello", ["nobody"])];
live.close();
dead.close();
const outcomes = await Promise.allSettled(pending);
const closedErrors = outcomes.filter((outcome) => outcome.status === "rejected" && outcome.reason instanceof ClientClosedError);
console.log(`first item ${String(first.value)}, ${closedErrors.length} pending calls closed`);
