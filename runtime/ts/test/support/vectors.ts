/**
 * Reads the captured zerorpc wire vectors (../shared/vectors/zerorpc-v3.json from the repository
 * root) and turns their JSON notation back into the values our decoder produces.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./peers.js";

/** One captured event. */
export interface Vector {
  readonly name: string;
  readonly direction: "client->server" | "server->client";
  /** The frames as the producer sent them, in hex. */
  readonly frames_hex: readonly string[];
  /** The event frame, in hex. */
  readonly hex: string;
  /** The event in JSON notation: `{"$bin": hex}` is a bin value, a `"$bin:<hex>"` key a bin key. */
  readonly decoded: unknown;
}

/** Every vector of the file. */
export function loadVectors(): Vector[] {
  const path = join(repoRoot, "../shared/vectors/zerorpc-v3.json");
  const file = JSON.parse(readFileSync(path, "utf8")) as { vectors: Vector[] };
  return file.vectors;
}

/** The bytes of a hex string. */
export function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** A hex string of bytes. */
export function bytesHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** The value the runtime decodes for a vector's JSON notation (bin keys are read as UTF-8 text). */
export function fromNotation(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(fromNotation);
  }
  if (typeof value !== "object" || value === null) {
    return value;
  }
  const entries = Object.entries(value);
  const [onlyEntry] = entries;
  if (entries.length === 1 && onlyEntry?.[0] === "$bin" && typeof onlyEntry[1] === "string") {
    return hexBytes(onlyEntry[1]);
  }
  return Object.fromEntries(
    entries.map(([key, item]) => [
      key.startsWith("$bin:") ? Buffer.from(key.slice("$bin:".length), "hex").toString("utf8") : key,
      fromNotation(item),
    ]),
  );
}
