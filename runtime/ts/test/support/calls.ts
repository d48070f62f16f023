/** Helpers the client tests share to read what a call ended in. */

import assert from "node:assert/strict";
import { RemoteError, RpcError } from "../../src/rpcgen-runtime.js";

/** Asserts that `promise` rejects with a RemoteError of type `remoteName`; returns the error. */
export async function rejectsRemotely(promise: Promise<unknown>, remoteName: string): Promise<RemoteError> {
  const error: unknown = await promise.then(
    () => assert.fail("the call succeeded"),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof RemoteError, `expected a RemoteError, got ${String(error)}`);
  assert.ok(error instanceof RpcError);
  assert.equal(error.remoteName, remoteName);
  return error;
}

/** Collects every item of a stream. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const collected: T[] = [];
  for await (const item of items) {
    collected.push(item);
  }
  return collected;
}
