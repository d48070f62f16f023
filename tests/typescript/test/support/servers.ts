/**
 * Starts the servers the end-to-end tests call (the real zerorpc-python and zerorpc-node peers, the
 * Python fixture server, the Rust example server, the Rust server of the evolution fixture) as
 * child processes, and stops or kills them.
 *
 * Every server prints one line `READY <endpoint>` once it listens. The peers, the Python fixture
 * server and the evolution server stop when their stdin closes, the example server on SIGINT (Ctrl-C).
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is compiled to tests/typescript/build/js/test/support/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../../..");

/** Bound on a server's start-up and shutdown, generous for a loaded machine. */
const START_LIMIT_MS = 30_000;

/** A server running in a child process. */
export interface RunningServer {
  /** The endpoint it listens on. */
  readonly endpoint: string;
  /** Stops it by closing its stdin, killing it if it does not exit in time. */
  stop(): Promise<void>;
  /** Kills it at once, as a crash would. */
  kill(): void;
}

/** The Python that has zerorpc: `$RPCGEN_PYTHON`, else the repository's venv. */
export function pythonPath(): string {
  const python = process.env["RPCGEN_PYTHON"] ?? join(repoRoot, ".venv/bin/python");
  if (!existsSync(python)) {
    throw new Error(`no Python with zerorpc at ${python}: set RPCGEN_PYTHON or run scripts/test.sh once`);
  }
  return python;
}

/** Starts the real zerorpc-python peer, tests/fixtures/zerorpc_peer.py. */
export function startPythonPeer(heartbeatSeconds: number): Promise<RunningServer> {
  const script = join(repoRoot, "tests/fixtures/zerorpc_peer.py");
  return startServer(pythonPath(), [script, "--heartbeat", String(heartbeatSeconds)]);
}

/** Starts the real zerorpc-node peer, tests/fixtures/zerorpc_node_peer.cjs (needs node_modules/). */
export function startNodePeer(heartbeatSeconds: number): Promise<RunningServer> {
  const script = join(repoRoot, "tests/fixtures/zerorpc_node_peer.cjs");
  return startServer(process.execPath, [script, "--heartbeat", String(heartbeatSeconds)]);
}

/** Starts the zerorpc-python server of schemas/fixture.rpc, tests/typescript/test/fixture_server.py. */
export function startFixtureServer(heartbeatSeconds: number): Promise<RunningServer> {
  const script = join(repoRoot, "tests/typescript/test/fixture_server.py");
  return startServer(pythonPath(), [script, "--heartbeat", String(heartbeatSeconds)]);
}

/** The path of a Rust server binary that test.sh built and passes in the environment `variable`. */
function builtServer(variable: string): string {
  const server = process.env[variable];
  if (server === undefined || !existsSync(server)) {
    throw new Error(`no server binary at ${variable}=${server}: run the tests with tests/typescript/test.sh`);
  }
  return server;
}

/**
 * Starts the Rust example server of examples/shop (`shop-server`), whose path test.sh passes in
 * `$RPCGEN_SHOP_SERVER` after building it.
 */
export function startShopServer(heartbeatSeconds: number): Promise<RunningServer> {
  const args = ["--bind", "tcp://127.0.0.1:0", "--heartbeat", String(heartbeatSeconds)];
  return startServer(builtServer("RPCGEN_SHOP_SERVER"), args, "SIGINT");
}

/**
 * Starts the Rust server of version 2 of the evolution fixture (`stock-v2-server` of tests/rust,
 * heartbeat 5 s), whose path test.sh passes in `$RPCGEN_STOCK_SERVER` after building it.
 */
export function startStockV2Server(): Promise<RunningServer> {
  return startServer(builtServer("RPCGEN_STOCK_SERVER"), []);
}

/** How a server is asked to stop: by closing its stdin, or by a signal. */
type StopRequest = "close stdin" | NodeJS.Signals;

/** Runs `command` and waits for its `READY <endpoint>` line. */
export async function startServer(
  command: string,
  args: readonly string[],
  stopRequest: StopRequest = "close stdin",
): Promise<RunningServer> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const endpoint = await readyEndpoint(child, () => stderr);
  return { endpoint, stop: () => stopChild(child, stopRequest), kill: () => child.kill("SIGKILL") };
}

/** Waits for the child's `READY <endpoint>` line. */
function readyEndpoint(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        outcome();
      }
    };
    const fail = (why: string): void =>
      settle(() => {
        child.kill("SIGKILL");
        reject(new Error(`the server did not start: ${why}\n${stderr()}`));
      });
    const timer = setTimeout(() => fail(`no READY line within ${START_LIMIT_MS} ms`), START_LIMIT_MS);
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
      const endpoint = /^READY (\S+)$/m.exec(stdout)?.[1];
      if (endpoint !== undefined) {
        settle(() => resolvePromise(endpoint));
      }
    });
    child.on("error", (error) => fail(error.message));
    child.on("exit", (code) => fail(`it exited with code ${code}`));
  });
}

/** Asks the child to stop and waits for it to exit, killing it after the bound. */
function stopChild(child: ChildProcess, stopRequest: StopRequest): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), START_LIMIT_MS);
    child.on("exit", () => {
      clearTimeout(timer);
      resolvePromise();
    });
    if (stopRequest === "close stdin") {
      child.stdin?.end();
    } else {
      child.kill(stopRequest);
    }
  });
}

/** Every item of an async iterable, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) {
    collected.push(item);
  }
  return collected;
}

/** The error `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value: unknown) => {
      throw new Error(`expected a rejection, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}
