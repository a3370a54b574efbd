// Issue 7: Swagger UI at /docs renders every operation from local files only.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import { parse } from "yaml";
import { repoRoot, startTestServer } from "./helpers/server.js";

const CHROMIUM = "/usr/bin/chromium";
const operationCount = Object.values(parse(readFileSync(join(repoRoot, "openapi.yaml"), "utf8")).paths as Record<string, object>)
  .map((item) => Object.keys(item).length)
  .reduce((a, b) => a + b, 0);

test("headless Chromium renders /docs with every operation and an Authorize button, and no request leaves 127.0.0.1", { timeout: 90_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), "Debian's chromium package is needed (.ci/run installs it)");
  const server = await startTestServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const requested: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      requested.push(url);
      return new URL(url).hostname === "127.0.0.1" ? route.continue() : route.abort();
    });
    await page.goto(`${server.url}/docs`);
    await page.waitForSelector(".opblock", { timeout: 30_000 });
    const operations = await page.locator(".opblock").count();
    assert.equal(operations, operationCount);
    assert.equal(await page.locator("button.authorize").count(), 1);
    assert.match(await page.locator(".info .title").innerText(), /SDCI/);
    mkdirSync(join(repoRoot, "artifacts"), { recursive: true });
    await page.screenshot({ path: join(repoRoot, "artifacts", "docs.png"), fullPage: false });
    const outside = requested.filter((url) => new URL(url).hostname !== "127.0.0.1");
    assert.deepEqual(outside, []);
    assert.ok(requested.some((url) => url.endsWith("/openapi.json")));
  } finally {
    await browser.close();
    await server.stop();
  }
});

test("/docs/ and /docs/index.html lead to /docs; an unknown file under /docs is 404", async () => {
  const server = await startTestServer();
  try {
    for (const path of ["/docs/", "/docs/index.html"]) {
      const response = await fetch(`${server.url}${path}`, { redirect: "manual" });
      assert.equal(response.status, 301, path);
      assert.equal(response.headers.get("location"), "/docs", path);
    }
    assert.equal((await fetch(`${server.url}/docs/`)).url, `${server.url}/docs`);
    assert.equal((await fetch(`${server.url}/docs/nope.js`)).status, 404);
  } finally {
    await server.stop();
  }
});
