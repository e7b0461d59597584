// Starts @vercel/cosmosdb-server (lib directory in argv[2], server options after it) with one
// protocol adaptation: azure-cosmos for Python names a transactional batch's partition key
// only in the x-ms-documentdb-partitionkey header, while this server reads it from each
// operation (as the JavaScript SDK sends it). Batch operations that name none get the
// header's value, so Replace, Upsert, Read and Delete in a batch reach the right item.
// Nothing else changes: the server still runs a batch's operations one by one and does not
// roll back those before a failed one (see tests/support/cosmos_server.py).
"use strict";
const path = require("path");

const lib = process.argv[2];
const json = require(path.join(lib, "json"));
const readJson = json.default;
json.default = async (req) => {
  const body = await readJson(req);
  const header = req.headers["x-ms-documentdb-partitionkey"];
  if (String(req.headers["x-ms-cosmos-is-batch-request"]).toLowerCase() === "true" &&
      Array.isArray(body) && header !== undefined) {
    for (const operation of body) {
      if (operation && operation.partitionKey === undefined) {
        operation.partitionKey = Array.isArray(header) ? header[0] : header;
      }
    }
  }
  return body;
};
process.argv = [process.argv[0], path.join(lib, "cli.js"), ...process.argv.slice(3)];
require(path.join(lib, "cli.js"));
