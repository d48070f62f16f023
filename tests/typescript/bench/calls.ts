/**
 * Calls per second of generated TypeScript clients against Rust servers started by
 * tests/typescript/bench.sh in release builds, at 1 and 32 concurrent callers sharing one
 * connection, with p50/p99 latency: `echo(text)` on the benchmark server (`bench-server`, the
 * service of bench/ described by tests/python/bench/bench.rpc), and on the example shop
 * (examples/shop) `get(id)` (one u64 argument, a Ticket with 8 fields back), also made through the
 * runtime's untyped `Client.call` to show what the generated layer (argument checks, reply
 * conversion) costs. The measurements take turns over several rounds, so that a noisy machine
 * affects them alike, and each row shows its median round. Prints a Markdown table.
 *
 * Usage: node build/js/bench/calls.js [--seconds S] [--rounds N]
 */

import { performance } from "node:perf_hooks";
import { Client } from "../build/generated/rpcgen-runtime.js";
import { BenchClient } from "../build/generated/bench.js";
import { TicketsClient, toTicket } from "../build/generated/shop.js";
import { startServer, startShopServer } from "../test/support/servers.js";

/** Heartbeat of the server and client, the zerorpc default. */
const HEARTBEAT_SECONDS = 5;
/** Warm-up before each measurement, in seconds. */
const WARM_UP_SECONDS = 0.5;

/** One measured row. */
interface Row {
  readonly call: string;
  readonly callers: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `callers` loops of `call` for `seconds`, and measures throughput and latency. */
async function measure(label: string, callers: number, seconds: number, call: () => Promise<unknown>): Promise<Row> {
  await runFor(WARM_UP_SECONDS, callers, call, []);
  const latencies: number[] = [];
  const started = performance.now();
  await runFor(seconds, callers, call, latencies);
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return {
    call: label,
    callers,
    callsPerSecond: latencies.length / elapsedSeconds,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
  };
}

/** `callers` loops that call until `seconds` have passed, recording each latency in ms. */
async function runFor(seconds: number, callers: number, call: () => Promise<unknown>, latencies: number[]): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const start = performance.now();
      await call();
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: callers }, loop));
}

/** Microseconds one `toTicket` conversion of a decoded reply takes: the generated layer's CPU cost. */
function conversionMicroseconds(decoded: unknown): number {
  const conversions = 200_000;
  const started = performance.now();
  for (let index = 0; index < conversions; index += 1) {
    toTicket(decoded, "Ticket");
  }
  return ((performance.now() - started) * 1000) / conversions;
}

/** The value of the numeric option `--name`, or `fallback`. */
function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!(value > 0)) {
    throw new Error(`--${name} needs a positive number, got ${process.argv[index + 1]}`);
  }
  return value;
}

/** The row whose throughput is the median of `rows`. */
function median(rows: readonly Row[]): Row {
  const sorted = [...rows].sort((a, b) => a.callsPerSecond - b.callsPerSecond);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (middle === undefined) {
    throw new Error("no measurement");
  }
  return middle;
}

async function main(): Promise<void> {
  const seconds = numberOption("seconds", 2);
  const rounds = numberOption("rounds", 3);
  const benchServerPath = process.env["RPCGEN_BENCH_SERVER"];
  if (benchServerPath === undefined) {
    throw new Error("RPCGEN_BENCH_SERVER is not set: run the bench with tests/typescript/bench.sh");
  }
  const benchServer = await startServer(benchServerPath, ["--heartbeat", String(HEARTBEAT_SECONDS)]);
  const server = await startShopServer(HEARTBEAT_SECONDS);
  const options = { heartbeatSeconds: HEARTBEAT_SECONDS, timeoutSeconds: 10 };
  const benchConnection = new Client(benchServer.endpoint, options);
  const connection = new Client(server.endpoint, options);
  try {
    const bench = new BenchClient(benchConnection);
    const tickets = new TicketsClient(connection);
    const ticket = await tickets.open({
      title: "Benchmark",
      body: "A ticket with every field set",
      tags: ["bench", "typescript"],
      priority: "Normal",
      price: { cents: 1250n, currency: "EUR" },
    });
    const cases: [string, () => Promise<unknown>][] = [
      ["`echo(text)` → `string` (bench-server), generated client", () => bench.echo("hello, rpcgen")],
      ["`get(id)` → `Ticket`, generated client", () => tickets.get(ticket.id)],
      ["`get(id)` → `Ticket`, untyped `Client.call`", () => connection.call("get", [ticket.id])],
      ["`stats()` → `map<Priority, u64>`, generated client", () => tickets.stats()],
    ];
    const runs = cases.flatMap(([label, call]) => [1, 32].map((callers) => ({ label, call, callers })));
    const measured: Row[][] = runs.map(() => []);
    for (let round = 0; round < rounds; round += 1) {
      for (const [index, run] of runs.entries()) {
        measured[index]?.push(await measure(run.label, run.callers, seconds, run.call));
      }
    }
    const rows = measured.map(median);
    console.log("| call | callers | calls/s | p50 | p99 |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const row of rows) {
      const rate = Math.round(row.callsPerSecond).toLocaleString("en-US");
      console.log(`| ${row.call} | ${row.callers} | ${rate} | ${row.p50Ms.toFixed(2)} ms | ${row.p99Ms.toFixed(2)} ms |`);
    }
    const decoded = await connection.call("get", [ticket.id]);
    console.log(`\nConverting one decoded Ticket (toTicket): ${conversionMicroseconds(decoded).toFixed(2)} µs`);
  } finally {
    connection.close();
    benchConnection.close();
    await server.stop();
    await benchServer.stop();
  }
}

await main();
