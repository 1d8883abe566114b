// @vercel/cosmosdb-server for the contract tests, with two of its handlers fixed.
//
// Started through the JS API with keep-alive: the package's CLI closes every connection, which
// makes the SDK about three times slower. Prints "listening <port>" once it accepts requests.
//
//   node start.mjs [port]     (port 0 or none: a free one)
//
// The fixes wrap handler modules before the package's routes table captures them, so
// node_modules stays untouched:
// - read-document answers 500 for a missing item (it reads a property of `undefined`); a real
//   account answers 404, which the store relies on for point reads.
// - batch-documents wants the partition key in every operation, but the Python SDK sends it once,
//   in the x-ms-documentdb-partitionkey header: copy it into each operation.
// The server still runs a batch's operations one by one, not atomically, stopping at the first
// failure; tests that need real atomicity run against the official emulator or an account.

import { createRequire } from "node:module";
import { Readable } from "node:stream";

const require = createRequire(import.meta.url);
const lib = "@vercel/cosmosdb-server/lib";
const readDocument = require(`${lib}/handler/read-document`);
const batchDocuments = require(`${lib}/handler/batch-documents`);
const { parsePartitionKey } = require(`${lib}/utils/get-partition-from-header`);

const PARTITION_HEADER = "x-ms-documentdb-partitionkey";
const NOT_FOUND = {
  code: "NotFound",
  message: "Entity with the specified id does not exist in the system.",
};

const originalRead = readDocument.default;
readDocument.default = (account, req, res, params) => {
  const collection = account.database(params.dbId).collection(params.collId);
  const header = req.headers[PARTITION_HEADER];
  if (collection.read() && header && header !== "[{}]") {
    let partitionKey;
    try {
      partitionKey = parsePartitionKey(header, params.docId);
    } catch {
      res.statusCode = 400;
      return { code: "BadRequest", message: `malformed ${PARTITION_HEADER} header` };
    }
    if (!collection.document(params.docId, partitionKey).read()) {
      res.statusCode = 404;
      return NOT_FOUND;
    }
  }
  return originalRead(account, req, res, params);
};

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const originalBatch = batchDocuments.default;
batchDocuments.default = async (account, req, res, params) => {
  const header = req.headers[PARTITION_HEADER];
  let body = await readBody(req);
  if (header) {
    try {
      const operations = JSON.parse(body.toString());
      if (Array.isArray(operations)) {
        for (const operation of operations) {
          if (operation && operation.partitionKey === undefined) operation.partitionKey = header;
        }
        body = Buffer.from(JSON.stringify(operations));
      }
    } catch {
      // Not JSON: the original handler answers it.
    }
  }
  // The original handler reads the body from the request stream: hand it a fresh one.
  const replay = Readable.from([body]);
  replay.headers = req.headers;
  replay.method = req.method;
  replay.url = req.url;
  return originalBatch(account, replay, res, params);
};

const { createHttpsServer } = require(lib);
const port = Number(process.argv[2] ?? 0);
const server = createHttpsServer({ keepAlive: true });
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
  // Keep-alive connections would hold close() open: end them too.
  process.on(signal, () => server.closeAllConnections?.());
}
