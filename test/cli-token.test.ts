// A token that an HTTP header cannot carry is refused by sdci-cli in one line that never shows
// it; blanks around it (a token file written on Windows ends in "\r") are trimmed, the same way
// for every command, since sdci-server trims its own token too.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type TestServer, runCli, startTestServer } from "./helpers/server.js";

describe("sdci-cli token checks", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ tasks: { hello: 'echo "hello $1"' } });
  });
  after(() => server.stop());

  test("a token with a line break, a blank or a non-ASCII character: one line that does not show it, nothing sent", async () => {
    const secretPart = "s3cr3tPart";
    for (const bad of [`abc${secretPart}\ndef`, `abc ${secretPart}`, `abc${secretPart}\tx`, `abc${secretPart}é`]) {
      for (const [how, args, env] of [
        ["--token", ["run", "--token", bad, server.url, "hello"], {}],
        ["SDCI_TOKEN", ["status", server.url], { SDCI_TOKEN: bad }],
        ["SDCI_TOKEN", ["upload-asset", server.url, join(server.root, "local.txt"), "tokens"], { SDCI_TOKEN: bad }],
      ] as const) {
        writeFileSync(join(server.root, "local.txt"), "x");
        const result = await runCli([...args], env);
        assert.equal(result.code, 1, `${how} ${JSON.stringify(bad)}: ${result.stderr}`);
        const lines = result.stderr.split("\n").filter(Boolean);
        assert.equal(lines.length, 1, `one line for ${JSON.stringify(bad)}:\n${result.stderr}`);
        assert.ok(!result.stderr.includes(secretPart), `the token shows in: ${result.stderr}`);
        assert.match(lines[0]!, new RegExp(`^sdci-cli: the token from ${how} `));
      }
    }
    assert.equal((await runCli(["runs", "--token", server.token, server.url])).stdout.includes("hello"), false, "a run was started");
  });

  test("a token with a trailing \\r or blanks works for every command, upload-asset too", async () => {
    const token = ` ${server.token}\r`;
    const status = await runCli(["status", server.url], { SDCI_TOKEN: token });
    assert.equal(status.code, 0, status.stderr);
    const ran = await runCli(["run", "--token", token, server.url, "hello", "crlf"]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, "hello crlf\n");
    writeFileSync(join(server.root, "crlf.txt"), "crlf");
    const uploaded = await runCli(["upload-asset", server.url, join(server.root, "crlf.txt"), "tokens"], { SDCI_TOKEN: token });
    assert.equal(uploaded.code, 0, uploaded.stderr);
  });

  test("store-token refuses such a token too, from its argument or stdin, without showing it", async () => {
    for (const [args, input] of [
      [["store-token", server.url, "abc s3cr3tPart"], undefined],
      [["store-token", server.url], "abc\ts3cr3tPart\n"],
    ] as const) {
      const result = await runCli([...args], {}, input);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^sdci-cli: the token from (the TOKEN argument|stdin) holds/);
      assert.ok(!result.stderr.includes("s3cr3tPart"), result.stderr);
    }
  });

  test("an empty --token is refused rather than silently replaced by SDCI_TOKEN", async () => {
    const result = await runCli(["status", "--token", "", server.url], { SDCI_TOKEN: server.token });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "sdci-cli: the token from --token is empty\n");
  });
});
