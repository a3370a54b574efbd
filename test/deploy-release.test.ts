import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type TestServer, repoRoot, runCli, startTestServer } from "./helpers/server.js";

describe("examples/tasks/deploy-release.sh", () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;
  let deployDir: string;

  const release = (version: string, text: string) => {
    const folder = join(server.root, "build", version, "dist");
    mkdirSync(join(folder, "assets"), { recursive: true });
    writeFileSync(join(folder, "index.html"), text);
    writeFileSync(join(folder, "assets", "app.js"), `console.log(${JSON.stringify(version)});\n`);
    return folder;
  };
  const deploy = (...params: string[]) => runCli(["run", server.url, "deploy-release", ...params], env);
  const current = () => readFileSync(join(deployDir, "current", "index.html"), "utf8");

  before(async () => {
    const script = readFileSync(join(repoRoot, "examples", "tasks", "deploy-release.sh"), "utf8");
    server = await startTestServer({ tasks: { "deploy-release": script } });
    env = { SDCI_TOKEN: server.token };
    deployDir = join(server.root, "deploy");
  });
  after(() => server.stop());

  test("an uploaded folder is installed and `current` switches to it", async () => {
    assert.equal((await runCli(["upload-asset", server.url, release("v1", "one"), "releases/v1"], env)).code, 0);
    const result = await deploy("v1");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /copying dist\/\ninstalled releases\/v1\ncurrent -> releases\/v1\n/);
    assert.equal(readlinkSync(join(deployDir, "current")), "releases/v1");
    assert.equal(current(), "one");
    assert.equal(readFileSync(join(deployDir, "current", "assets", "app.js"), "utf8"), 'console.log("v1");\n');
  });

  test("an uploaded .tar.gz is unpacked, and old releases beyond KEEP are removed", async () => {
    for (const version of ["v2", "v3", "v4"]) {
      const archive = join(server.root, `${version}.tar.gz`);
      execFileSync("tar", ["-czf", archive, "-C", release(version, `release ${version}`), "."]);
      assert.equal((await runCli(["upload-asset", server.url, archive, `releases/${version}`], env)).code, 0);
      const result = await deploy(version, "2");
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`unpacking ${version}\\.tar\\.gz\n`));
      assert.equal(current(), `release ${version}`);
    }
    assert.deepEqual(readdirSync(join(deployDir, "releases")).sort(), ["v3", "v4"]);
    assert.ok(!existsSync(join(deployDir, ".current.tmp")));
  });

  test("deploying an installed release switches back to it; an unknown one fails and changes nothing", async () => {
    const back = await deploy("v3", "2");
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /releases\/v3 is installed already/);
    assert.equal(current(), "release v3");

    const missing = await deploy("v9");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nothing uploaded at releases\/v9/);
    for (const [version, made] of [
      ["v7", "an empty folder made on the host"],
      ["v8", "an uploaded empty folder"],
      ["v9", "an uploaded folder of empty folders"],
    ] as const) {
      if (version === "v7") mkdirSync(join(server.uploadsDir, "releases", version), { recursive: true });
      else {
        const empty = join(server.root, "build", version, "dist");
        mkdirSync(version === "v9" ? join(empty, "sub", "sub2") : empty, { recursive: true });
        assert.equal((await runCli(["upload-asset", server.url, empty, `releases/${version}`], env)).code, 0);
      }
      const empty = await deploy(version);
      assert.equal(empty.code, 1, `${made}: ${empty.stdout}`);
      assert.match(empty.stderr, new RegExp(`releases/${version} holds no files: nothing to deploy`));
      assert.ok(!existsSync(join(deployDir, "releases", version)), `${made} is not installed`);
    }
    const hostile = await deploy("../v3");
    assert.equal(hostile.code, 2);
    assert.equal(readlinkSync(join(deployDir, "current")), "releases/v3");
  });
});
