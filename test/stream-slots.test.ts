// A stream's slot belongs to its response: whatever becomes of the response, the slot and the
// log file it holds come back. node-server only cancels a body it has begun to write.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { followRunLog } from "../src/api/sse.js";
import { StreamSlots, slotForResponse } from "../src/api/stream-slots.js";
import { RunEventLog } from "../src/runner/run-event-log.js";
import { waitFor } from "./helpers/wait.js";

const openFiles = () => readdirSync("/proc/self/fd").length;

test("a stream whose connection closed before its answer began gives back its slot and closes its file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sdci-slots-"));
  const log = RunEventLog.create(join(dir, "events.sse"));
  log.append("run", { id: "r" });
  const slots = new StreamSlots(1);
  const made: Array<ReadableStream<Uint8Array>> = [];
  // The client is gone by the time the handler answers: as after a slow lookup, or a hang-up at once.
  const server = http.createServer((request, response) => {
    request.socket.destroy();
    setTimeout(() => {
      const slot = slotForResponse(slots, response);
      assert.ok(slot, "a slot was free");
      made.push(followRunLog(log, 0, { keepaliveMs: 60_000, onEnd: slot.release, abandoned: slot.closed }));
    }, 50);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const before = openFiles();
  try {
    const { port } = server.address() as AddressInfo;
    const client = http.get({ host: "127.0.0.1", port, path: "/" });
    client.on("error", () => {});
    assert.ok(await waitFor(() => made.length === 1, 5000), "the handler ran");
    assert.ok(await waitFor(() => slots.open === 0, 2000), "the slot was never given back");
    assert.ok(await waitFor(() => openFiles() <= before, 2000), "the log file was left open");
    assert.ok(slotForResponse(slots, undefined), "the slot can be taken again");
  } finally {
    server.close();
    log.finish();
    rmSync(dir, { recursive: true, force: true });
  }
});
