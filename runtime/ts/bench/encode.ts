/**
 * How long the runtime takes to encode a request: a typical echo call (`echo("hello world")`) and
 * one whose argument is a map of 100 entries (half numbers, half short strings). Each case runs in
 * 7 rounds of at most 200,000 encodings or 1 second each; prints the median round, in microseconds
 * per encoding. Not a test: nothing is asserted.
 *
 * Usage: node build/bench/encode.js [path of a built rpcgen-runtime.js, to compare another version]
 */

import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

/** The runtime's encoding function, from this build or from the module given. */
type EncodeRequest = (messageId: string, method: string, args: readonly unknown[]) => Uint8Array;

const ROUNDS = 7;
const MAX_ENCODINGS_PER_ROUND = 200_000;
const MAX_MS_PER_ROUND = 1000;

const modulePath = process.argv[2];
const runtime = (await import(modulePath === undefined ? "../src/rpcgen-runtime.js" : pathToFileURL(modulePath).href)) as {
  encodeRequest: EncodeRequest;
};
const id = "0123456789abcdef0123456789abcdef";
const map = Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`field_${index}`, index % 2 === 0 ? index * 1000 : `value ${index}`]));
const cases: [string, () => Uint8Array][] = [
  ["echo request", () => runtime.encodeRequest(id, "echo", ["hello world"])],
  ["100-entry map", () => runtime.encodeRequest(id, "echo", [map])],
];

for (const [label, encode] of cases) {
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    let count = 0;
    while (count < MAX_ENCODINGS_PER_ROUND && performance.now() - started < MAX_MS_PER_ROUND) {
      encode();
      count += 1;
    }
    rounds.push(((performance.now() - started) * 1000) / count);
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[Math.floor(ROUNDS / 2)] ?? NaN;
  console.log(`${label}: ${median.toFixed(2)} µs per encoding (rounds from ${rounds[0]?.toFixed(2)} to ${rounds[ROUNDS - 1]?.toFixed(2)})`);
}
