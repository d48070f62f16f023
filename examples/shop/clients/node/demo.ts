// Calls the example ticket shop from Node with the TypeScript client that rpcgen generated from
// api/shop.rpc (into ./gen, by scripts/demo.sh). Usage: node build/demo.js ENDPOINT

import { Client, RemoteError } from "./gen/rpcgen-runtime.js";
import { NotFound, Rejected, TicketsClient, type Ticket } from "./gen/shop.js";

/** One line per ticket: id, priority and title. */
function describe(ticket: Ticket): string {
  return `#${ticket.id} [${ticket.priority}] ${ticket.title}`;
}

async function main(endpoint: string): Promise<void> {
  const connection = new Client(endpoint);
  const tickets = new TicketsClient(connection);
  try {
    const opened = await tickets.open({
      title: "Checkout page is slow",
      body: "Takes 8 s to load since Monday.",
      tags: ["web", "performance"],
      priority: "Normal",
      price: { cents: 1_250n, currency: "EUR" },
    });
    console.log(`open        -> ${describe(opened)} (price ${opened.price?.cents} ${opened.price?.currency})`);

    const again = await tickets.get(opened.id);
    console.log(`get         -> ${describe(again)}, tags ${again.tags.join(", ")}`);

    await tickets.attach(opened.id, new TextEncoder().encode("GET /checkout 8123ms"));
    const attached = await tickets.get(opened.id);
    console.log(`attach      -> ${attached.attachment?.length} bytes stored`);

    console.log("ticket_list -> (stream)");
    for await (const ticket of tickets.list(null)) {
      console.log(`                ${describe(ticket)}`);
    }

    try {
      await tickets.get(999_999n);
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
      console.log(`get 999999  -> typed error NotFound { id: ${error.fields.id} }`);
    }
    try {
      await tickets.open({ title: "", body: null, tags: [], priority: "Low", price: null });
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      console.log(`open ""     -> typed error Rejected { field: ${error.fields.field}, message: ${error.fields.message} }`);
    }
    const stats = await tickets.stats();
    console.log(`stats       -> ${JSON.stringify(stats, (_key, value: unknown) => (typeof value === "bigint" ? Number(value) : value))}`);
  } catch (error) {
    if (error instanceof RemoteError) {
      console.error(`remote error ${error.remoteName}: ${error.remoteMessage}`);
    }
    throw error;
  } finally {
    connection.close();
  }
}

const endpoint = process.argv[2] ?? "tcp://127.0.0.1:4242";
await main(endpoint);
