// A real zerorpc-node client calling an rpcgen Rust server (the demo service of the runtime's
// tests), as a Node app that used a zerorpc-node server would, unchanged.
//
//     node runtime/tests/node/node_client.cjs ENDPOINT
//
// Exits 0 and prints "PASSED <n> checks" when every check holds; otherwise prints which check
// failed and exits 1.
"use strict";

const assert = require("assert/strict");
const zerorpc = require("../../../tests/fixtures/zerorpc_node.cjs");

const client = new zerorpc.Client({ heartbeatInterval: 1000, timeout: 20 });
client.connect(process.argv[2]);

// One call, as a promise of its single result.
function call(method, ...args) {
  return new Promise((resolve, reject) => {
    client.invoke(method, ...args, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

// One streaming call, as a promise of all its items.
function stream(method, ...args) {
  return new Promise((resolve, reject) => {
    const items = [];
    client.invoke(method, ...args, (error, item, more) => {
      if (error) {
        reject(error);
      } else if (more) {
        items.push(item);
      } else {
        resolve(items);
      }
    });
  });
}

// The remote error a call ends in.
async function remoteError(method, ...args) {
  try {
    await call(method, ...args);
  } catch (error) {
    return error;
  }
  throw new Error(`${method} succeeded; an error was expected`);
}

// Values msgpack-lite decodes and re-encodes without change (every number here fits 32 bits, or
// is a float).
const VALUES = [
  null,
  true,
  false,
  7,
  -3,
  1.5,
  "héllo",
  Buffer.from([0, 1, 255]),
  [1, "two", 3.5],
  { a: 1, b: [true, null], c: { d: Buffer.from("x") } },
];

async function main() {
  let checks = 0;
  for (const value of VALUES) {
    assert.deepEqual(await call("echo", value), value, `echo ${JSON.stringify(value)}`);
    checks += 1;
  }
  assert.equal(await call("add", 2, 3), 5);
  // msgpack-lite sends 2^40 as a float64; the server's i64 parameter takes it, and answers 2^40 + 1
  // as an integer, which msgpack-lite reads back exactly.
  assert.equal(await call("add", 2 ** 40, 1), 2 ** 40 + 1);
  assert.equal(await call("hello", "node"), "Hello, node");
  assert.equal(await call("nothing"), null);
  checks += 4;

  let error = await remoteError("fail", "boom");
  assert.equal(error.name, "ValueError");
  assert.equal(error.message, "boom");
  error = await remoteError("nosuch");
  assert.equal(error.name, "NameError");
  assert.match(error.message, /nosuch/);
  error = await remoteError("add", 1);
  assert.equal(error.name, "TypeError");
  assert.match(error.message, /`add` takes 2 arguments/);
  error = await remoteError("add", 1, "x");
  assert.equal(error.name, "TypeError");
  assert.match(error.message, /`b`/);
  checks += 4;

  const expected = Array.from({ length: 1000 }, (_, index) => index);
  assert.deepEqual(await stream("count", 1000), expected, "a 1000-item stream");
  assert.deepEqual(await stream("count", 0), []);
  checks += 2;

  const inspected = await call("_zerorpc_inspect");
  assert.equal(inspected.name, "Demo");
  assert.deepEqual(
    inspected.methods.add.args.map((arg) => arg.name),
    ["a", "b"],
  );
  assert.equal(inspected.methods.add.doc, "Adds two integers.");
  assert.equal(inspected.contract.root, "demo.rpc");
  assert.ok(inspected.contract.files["demo.rpc"].includes("service Demo {"));
  assert.deepEqual(await call("_zerorpc_ping"), ["pong", "Demo"]);
  assert.ok((await call("_zerorpc_list")).includes("add"));
  checks += 7;

  // Longer than three heartbeat intervals on both sides.
  assert.equal(await call("sleep", 3.5), 3.5);
  checks += 1;

  console.log(`PASSED ${checks} checks`);
}

main().then(
  () => {
    client.close();
    process.exit(0);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
