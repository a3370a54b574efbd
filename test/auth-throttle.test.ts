// Issue 9: wrong tokens from one address get that address refused for a while; nobody else notices.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { AuthThrottle } from "../src/api/auth-throttle.js";
import { type TestServer, startTestServer } from "./helpers/server.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET from a chosen loopback source address (127.0.0.2 reaches a server on 127.0.0.1 on Linux). */
function getFrom(localAddress: string, url: string, token: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
    const req = request(url, { localAddress, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("throttling wrong tokens by address", () => {
  let server: TestServer;
  let status: string;
  before(async () => {
    server = await startTestServer();
    status = `${server.url}/v1/status`;
  });
  after(() => server.stop());

  test("20 wrong tokens from 127.0.0.2 get it refused with 429; 127.0.0.1 with the token is unaffected (AC3)", async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) answers.push(await getFrom("127.0.0.2", status, `wrong-${i}`));
    const statuses = answers.map((a) => a.status);
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), `first ten: ${statuses}`);
    assert.deepEqual(statuses.slice(10), Array(10).fill(429), `last ten: ${statuses}`);
    const refused = answers.at(-1)!;
    assert.equal(refused.headers["content-type"], "application/problem+json");
    const retryAfter = Number(refused.headers["retry-after"]);
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    assert.equal(JSON.parse(refused.body).type, "urn:sdci:problem:auth-throttled");

    // The refused address is refused even with the right token: a guess while refused teaches nothing.
    assert.equal((await getFrom("127.0.0.2", status, server.token)).status, 429);
    // Another address, wrong token or right, is answered as ever.
    assert.equal((await getFrom("127.0.0.1", status, server.token)).status, 200);
    assert.equal((await getFrom("127.0.0.1", status, "wrong")).status, 401);
    assert.equal((await getFrom("127.0.0.1", `${server.url}/health`, undefined)).status, 200);
    // Routes without a token stay open to the refused address too.
    assert.equal((await getFrom("127.0.0.2", `${server.url}/health`, undefined)).status, 200);
  });

  test("successful requests and requests without a token do not count", async () => {
    for (let i = 0; i < 30; i++) {
      assert.equal((await getFrom("127.0.0.3", status, server.token)).status, 200);
      assert.equal((await getFrom("127.0.0.3", status, undefined)).status, 401);
    }
    for (let i = 0; i < 9; i++) assert.equal((await getFrom("127.0.0.3", status, "wrong")).status, 401);
    assert.equal((await getFrom("127.0.0.3", status, server.token)).status, 200);
  });
});

test("the throttle forgets failures older than its window and lifts a block after its time", () => {
  const throttle = new AuthThrottle({ maxFailures: 3, windowMs: 1000, blockMs: 5000, maxAddresses: 2 });
  throttle.recordFailure("a", 0);
  throttle.recordFailure("a", 700);
  throttle.recordFailure("a", 1600); // the first one has left the window
  assert.equal(throttle.waitMs("a", 1600), 0);
  throttle.recordFailure("a", 1650);
  assert.equal(throttle.waitMs("a", 1650), 5000);
  assert.equal(throttle.waitMs("a", 6649), 1);
  assert.equal(throttle.waitMs("a", 6650), 0);
  assert.equal(throttle.waitMs("b", 1700), 0);
  // Memory stays bounded: the least recently failing address is forgotten first.
  throttle.recordFailure("b", 1800);
  throttle.recordFailure("c", 1900);
  assert.equal(throttle.waitMs("a", 1900), 0);
});
