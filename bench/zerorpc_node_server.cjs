// zerorpc-node's own server with the benchmark's echo methods and stream (see docs/benchmarks.md),
// the same methods as bench/zerorpc_server.py. Run by `runtime-bench` with the repository's
// node_modules/ (zerorpc-node on zeromq v6's v5-compat layer, as the interop tests run it):
//
//     node bench/zerorpc_node_server.cjs [--heartbeat 5]
//
// It binds a free port on 127.0.0.1, prints `READY <endpoint>` and serves until stdin closes.
"use strict";

const zerorpc = require("../tests/fixtures/zerorpc_node.cjs");

// `function` expressions: zerorpc-node reads parameter names from their source.
const bench = {
  echo: function (text, reply) {
    reply(null, text);
  },
  echo_map: function (entries, reply) {
    reply(null, entries);
  },
  echo_bytes: function (data, reply) {
    reply(null, data);
  },
  items: function (count, size, reply) {
    const item = "x".repeat(size);
    for (let sent = 0; sent < count; sent++) {
      reply(null, item, true);
    }
    reply(null, undefined, false);
  },
};

const at = process.argv.indexOf("--heartbeat");
const heartbeatSeconds = at >= 0 ? Number(process.argv[at + 1]) : 5;
const server = new zerorpc.Server(bench, heartbeatSeconds * 1000);
server.on("error", (error) => console.error("zerorpc-node server error:", error));
server.bind("tcp://127.0.0.1:*");
console.log("READY " + server._socket._zmqSocket.last_endpoint);
process.stdin.on("end", () => {
  server.close();
  process.exit(0);
});
process.stdin.resume();
