/**
 * Starts the real foreign servers the tests call, and finds the repository's files: zerorpc-python
 * (tests/fixtures/zerorpc_peer.py, run by $RPCGEN_PYTHON, else by the repository's .venv) and
 * zerorpc-node (tests/fixtures/zerorpc_node_peer.cjs, with the repository's node_modules).
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is compiled to runtime/ts/build/test/support/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../..");

const pythonPeerScript = join(repoRoot, "tests/fixtures/zerorpc_peer.py");
const nodePeerScript = join(repoRoot, "tests/fixtures/zerorpc_node_peer.cjs");
/** Bound on the peer's start-up and shutdown, generous for a loaded machine. */
const PEER_START_LIMIT_MS = 20_000;

/** A running zerorpc server. */
export interface Peer {
  /** The endpoint it listens on. */
  readonly endpoint: string;
  /** Stops it by closing its stdin, killing it if it does not exit in time. */
  stop(): Promise<void>;
  /** Kills it at once, as a crash would. */
  kill(): void;
}

/** The Python interpreter that has zerorpc installed. */
function pythonPath(): string {
  const python = process.env["RPCGEN_PYTHON"] ?? join(repoRoot, ".venv/bin/python");
  if (!existsSync(python)) {
    throw new Error(
      `no Python for the zerorpc-python peer at ${python}: set RPCGEN_PYTHON or create the venv (scripts/test.sh does)`,
    );
  }
  return python;
}

/** Starts the zerorpc-python peer with the given heartbeat, bound to `bind` (a free port by default). */
export function startPythonPeer(heartbeatSeconds: number, bind = "tcp://127.0.0.1:*"): Promise<Peer> {
  return startPeer(pythonPath(), [pythonPeerScript, "--heartbeat", String(heartbeatSeconds), "--bind", bind]);
}

/** Starts the zerorpc-node peer with the given heartbeat, bound to `bind` (a free port by default). */
export function startNodePeer(heartbeatSeconds: number, bind = "tcp://127.0.0.1:*"): Promise<Peer> {
  return startPeer(process.execPath, [nodePeerScript, "--heartbeat", String(heartbeatSeconds), "--bind", bind]);
}

/** Runs `command` with `args` and waits for its `READY <endpoint>` line. */
async function startPeer(command: string, args: string[]): Promise<Peer> {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const endpoint = await readyEndpoint(child, () => stderr);
  return {
    endpoint,
    stop: () => stopChild(child),
    kill: () => child.kill("SIGKILL"),
  };
}

/** Waits for the peer's `READY <endpoint>` line. */
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
        reject(new Error(`the peer did not start: ${why}\n${stderr()}`));
      });
    const timer = setTimeout(() => fail(`no READY line within ${PEER_START_LIMIT_MS} ms`), PEER_START_LIMIT_MS);
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

/** Closes the child's stdin and waits for it to exit, killing it after the bound. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), PEER_START_LIMIT_MS);
    child.on("exit", () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.stdin?.end();
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolvePromise(address.port)
          : reject(new Error("no port assigned")),
      );
    });
  });
}
