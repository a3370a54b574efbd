// sdci-cli run's Ctrl-C: what it says on leaving is what it knows, and once the command has
// ended on its own, a cancel still in flight changes neither its exit code nor its last words.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type CancelAnswer, InterruptHandler } from "../src/cli/interrupt-handler.js";

function handlerWith(send: (runId: string) => Promise<CancelAnswer>) {
  const signals = new EventEmitter();
  const stderr = new PassThrough();
  let said = "";
  stderr.on("data", (chunk) => (said += chunk));
  const exits: number[] = [];
  const handler = new InterruptHandler(stderr, "http://sdci.test", send, {
    retryWindowMs: 5000,
    leaveWaitMs: 2000,
    exit: (code) => exits.push(code),
    signals: signals as unknown as Pick<NodeJS.Process, "on" | "off">,
  });
  return { handler, ctrlC: () => signals.emit("SIGINT"), said: () => said, exits };
}

test("a cancel answered 409 (the task had ended) is not reported as a cancel under way", async () => {
  const { handler, ctrlC, said, exits } = handlerWith(async () => "ended");
  handler.runStarted("r1");
  ctrlC();
  await sleep(20);
  ctrlC();
  await sleep(20);
  assert.deepEqual(exits, [130]);
  assert.match(said(), /stopped waiting; run r1 had already ended on the server, so there was nothing to cancel\n$/);
  assert.doesNotMatch(said(), /is being cancelled/);
  handler.dispose();
});

test("a third Ctrl-C after the server took the cancel still says so", async () => {
  const { handler, ctrlC, said, exits } = handlerWith(async () => "accepted");
  handler.runStarted("r2");
  ctrlC();
  await sleep(20);
  // The second waits for nothing (the answer is in), so it leaves at once: no third is needed.
  ctrlC();
  await sleep(20);
  assert.deepEqual(exits, [130]);
  assert.match(said(), /run r2 is being cancelled on the server\n$/);
  handler.dispose();
});

test("once the command has ended on its own, a cancel still being retried stops, and says and exits nothing", async () => {
  let attempts = 0;
  const { handler, ctrlC, said, exits } = handlerWith(async () => {
    attempts += 1;
    throw new Error("no connection");
  });
  handler.runStarted("r3");
  ctrlC();
  await sleep(20);
  ctrlC();
  await sleep(50);
  handler.dispose();
  const tried = attempts;
  const before = said();
  await sleep(2500);
  assert.deepEqual(exits, [], "the command's own exit code stands");
  assert.equal(said(), before, "nothing more is said");
  assert.ok(attempts <= tried + 1, `kept trying after the command ended (${attempts} tries, ${tried} before)`);
});
