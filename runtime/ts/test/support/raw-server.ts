/**
 * A hand-driven zerorpc server for the tests: a real ZeroMQ ROUTER on 127.0.0.1 whose replies the
 * test writes event by event, to reproduce what zerorpc-node servers and broken peers send.
 */

import { encode } from "@msgpack/msgpack";
import { Router } from "zeromq";
import { decodeEvent, type DecodedEvent } from "../../src/rpcgen-runtime.js";

/** One event received from a client, with what is needed to answer it. */
export interface ReceivedEvent {
  readonly routingId: Uint8Array;
  readonly event: DecodedEvent;
  /** The frames after the routing id, as the client sent them. */
  readonly frames: readonly Uint8Array[];
}

/** A ROUTER socket that the test drives. */
export class RawServer {
  private counter = 0;

  private constructor(
    private readonly socket: Router,
    /** The endpoint clients connect to. */
    readonly endpoint: string,
  ) {}

  /**
   * Binds to `endpoint`, a free port on 127.0.0.1 by default; `options` set the ROUTER's queue of
   * received messages and its TCP receive buffer, to make a server that stops reading.
   */
  static async start(
    endpoint = "tcp://127.0.0.1:*",
    options: { receiveHighWaterMark?: number; receiveBufferSize?: number } = {},
  ): Promise<RawServer> {
    const socket = new Router({ linger: 0, ...options });
    await socket.bind(endpoint);
    const bound = socket.lastEndpoint;
    if (bound === null) {
      throw new Error("the raw server has no endpoint");
    }
    return new RawServer(socket, bound);
  }

  /** The next event whose name is not among `skipped` (heartbeats and credit by default). */
  async receive(skipped: readonly string[] = ["_zpc_hb", "_zpc_more"]): Promise<ReceivedEvent> {
    for (;;) {
      const [routingId, ...frames] = await this.socket.receive();
      const last = frames[frames.length - 1];
      if (routingId === undefined || last === undefined) {
        throw new Error("the raw server received an empty message");
      }
      const event = decodeEvent(last);
      if (!skipped.includes(event.name)) {
        return { routingId, event, frames };
      }
    }
  }

  /** Every event that arrives within `ms` milliseconds, heartbeats and credit included. */
  async receiveFor(ms: number): Promise<ReceivedEvent[]> {
    const received: ReceivedEvent[] = [];
    const deadline = Date.now() + ms;
    try {
      for (let left = ms; left > 0; left = deadline - Date.now()) {
        this.socket.receiveTimeout = Math.ceil(left);
        let message: Uint8Array[];
        try {
          message = await this.socket.receive();
        } catch (error) {
          if ((error as { code?: unknown }).code === "EAGAIN") {
            break;
          }
          throw error;
        }
        const [routingId, ...frames] = message;
        const last = frames[frames.length - 1];
        if (routingId === undefined || last === undefined) {
          throw new Error("the raw server received an empty message");
        }
        received.push({ routingId, event: decodeEvent(last), frames });
      }
    } finally {
      this.socket.receiveTimeout = -1;
    }
    return received;
  }

  /**
   * Answers `request` with `[header, name, args]`, echoing its id as `response_to` (as a `str` when
   * `responseToAsString`), with or without the empty delimiter frame.
   */
  async reply(
    request: ReceivedEvent,
    name: string,
    args: unknown,
    options: { delimiter?: boolean; responseToAsString?: boolean } = {},
  ): Promise<void> {
    const requestId = request.event.header["message_id"];
    const responseTo =
      options.responseToAsString === true && requestId instanceof Uint8Array
        ? new TextDecoder().decode(requestId)
        : requestId;
    this.counter += 1;
    const header = { v: 3, message_id: `raw-server-${this.counter}`, response_to: responseTo };
    await this.sendRaw(request, encode([header, name, args], { useBigInt64: true }), options.delimiter ?? true);
  }

  /** Sends `event` bytes as they are to the client that sent `request`. */
  async sendRaw(request: ReceivedEvent, event: Uint8Array, delimiter = true): Promise<void> {
    const frames = delimiter ? [request.routingId, new Uint8Array(0), event] : [request.routingId, event];
    await this.socket.send(frames);
  }

  /** Closes the socket. */
  close(): void {
    this.socket.close();
  }
}
