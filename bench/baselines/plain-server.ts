// The plain node:http servers SDCI is measured against, run as their own process (as the SDCI
// server is): `status [MICROS]` answers every request with a small JSON body, after keeping the
// CPU busy for MICROS microseconds when given (a stand-in for a framework's own work per
// request); `sink DIR` pipes every request body into a file in DIR and answers 201. Prints
// `listening <port>` when ready.
import { createWriteStream } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

const [mode, arg] = process.argv.slice(2);
const dir = arg;
const busyMs = mode === "status" && arg ? Number(arg) / 1000 : 0;
const STATUS_BODY = JSON.stringify({ busy: null, version: "0.0.0" });

let uploads = 0;
const server = createServer((request, response) => {
  if (mode === "status") {
    if (busyMs > 0) for (const until = performance.now() + busyMs; performance.now() < until; );
    response.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(STATUS_BODY) }).end(STATUS_BODY);
    return;
  }
  pipeline(request, createWriteStream(join(dir!, `upload-${uploads++}`))).then(
    () => response.writeHead(201).end(),
    () => response.writeHead(500).end(),
  );
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
