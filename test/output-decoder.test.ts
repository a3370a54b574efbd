import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { OutputDecoder, type OutputDecoderOptions } from "../src/runner/output-decoder.js";

/** A decoder whose emitted chunks the test can read. */
function decoder(options: Partial<OutputDecoderOptions> = {}) {
  const chunks: string[] = [];
  const instance = new OutputDecoder((text) => chunks.push(text), { idleFlushMs: 20, maxChunkChars: 1024, ...options });
  return { chunks, push: (bytes: number[] | string) => instance.push(Buffer.from(bytes as never)), end: () => instance.end() };
}

describe("OutputDecoder", () => {
  test("a character split across reads comes out whole", async () => {
    const d = decoder();
    d.push([0xe2, 0x82]);
    d.push([0xac, 0x0a]);
    for (const byte of [0xf0, 0x9f, 0x98, 0x80]) d.push([byte]);
    d.push("\n");
    assert.deepEqual(d.chunks, ["€\n", "😀\n"]);
  });

  test("an idle flush of a partial line never emits half a character", async () => {
    const d = decoder();
    d.push([0x78, 0xe2, 0x82]);
    await sleep(80);
    assert.deepEqual(d.chunks, ["x"]);
    d.push([0xac]);
    await sleep(80);
    assert.deepEqual(d.chunks, ["x", "€"]);
  });

  test("invalid bytes become U+FFFD and decoding goes on", () => {
    const d = decoder();
    d.push([0x61, 0xff, 0x62, 0x0a]);
    d.push([0xc3, 0x28, 0x0a]);
    d.push([0xed, 0xa0, 0x80, 0x0a]);
    d.push("after\n");
    assert.equal(d.chunks.join(""), "a\uFFFDb\n\uFFFD(\n\uFFFD\uFFFD\uFFFD\nafter\n");
  });

  test("every complete line of one read goes out at once in one chunk", () => {
    const d = decoder();
    d.push("one\ntwo\nthree\npart");
    assert.deepEqual(d.chunks, ["one\ntwo\nthree\n"]);
  });

  test("a partial line goes out after the idle time", async () => {
    const d = decoder({ idleFlushMs: 30 });
    d.push("Password: ");
    assert.deepEqual(d.chunks, []);
    await sleep(120);
    assert.deepEqual(d.chunks, ["Password: "]);
  });

  test("steady partial output is flushed within the idle time, not held until it pauses", async () => {
    const d = decoder({ idleFlushMs: 30 });
    // A progress bar: a dot every 5 ms for 300 ms, never a newline.
    const ticker = setInterval(() => d.push("."), 5);
    await sleep(300);
    clearInterval(ticker);
    assert.ok(d.chunks.length >= 2, `expected several flushes while the dots kept coming, got ${d.chunks.length}`);
  });

  test("end() delivers output without a final newline, and an unfinished character as U+FFFD", () => {
    const d = decoder();
    d.push("last words");
    d.push([0xe2, 0x82]);
    d.end();
    assert.equal(d.chunks.join(""), "last words\uFFFD");
  });

  test("an over-long line is split at the chunk size, even before its newline arrives", () => {
    const d = decoder({ maxChunkChars: 8 });
    d.push("abcdefghijklmnopqrst");
    assert.deepEqual(d.chunks, ["abcdefgh", "ijklmnop"]);
    d.push("uvwxyz0123456789\n");
    assert.ok(d.chunks.every((chunk) => chunk.length <= 8));
    assert.equal(d.chunks.join(""), "abcdefghijklmnopqrstuvwxyz0123456789\n");
  });

  test("splitting an over-long line never separates a surrogate pair", () => {
    for (const maxChunkChars of [2, 3, 5, 8]) {
      const d = decoder({ maxChunkChars });
      const text = `a${"😀".repeat(20)}b😀c\n${"é😀".repeat(10)}`;
      d.push(text);
      d.end();
      assert.equal(d.chunks.join(""), text);
      for (const chunk of d.chunks) {
        assert.ok(chunk.length <= maxChunkChars, `chunk longer than ${maxChunkChars}: ${JSON.stringify(chunk)}`);
        assert.ok(chunk.length > 0);
        assert.doesNotMatch(chunk, /\p{Cs}/u, `lone surrogate in ${JSON.stringify(chunk)} at size ${maxChunkChars}`);
      }
    }
  });
});
