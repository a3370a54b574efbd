// The tasks, uploads and data folders must be apart: with the tasks folder inside the uploads
// folder, anyone holding the token could upload a script and then run it as a task.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { serverBin } from "./helpers/server.js";

const root = mkdtempSync(join(tmpdir(), "sdci-folders-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Starts sdci-server with these folders and expects it to refuse at once; returns its stderr. */
async function refusal(folders: { tasks: string; uploads: string; data: string }): Promise<string> {
  const run = promisify(execFile)(
    process.execPath,
    [serverBin, "serve", "--port", "0", "--tasks-dir", folders.tasks, "--uploads-dir", folders.uploads, "--data-dir", folders.data],
    { env: { ...process.env, SDCI_SERVER_TOKEN: "a-token-long-enough-1234" }, timeout: 15_000 },
  );
  const failed = await run.then(
    () => assert.fail("the server started and exited 0"),
    (error: { code: number; stderr: string }) => error,
  );
  assert.equal(failed.code, 1, failed.stderr);
  return failed.stderr;
}

test("nested or shared tasks, uploads and data folders are refused at start in one line, and nothing is created", async () => {
  const cases: [string, { tasks: string; uploads: string; data: string }, RegExp][] = [];
  const base = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  let dir = base("tasks-in-uploads");
  mkdirSync(join(dir, "up", "tasks"), { recursive: true });
  cases.push(["tasks inside uploads", { tasks: join(dir, "up", "tasks"), uploads: join(dir, "up"), data: join(dir, "data") }, /--tasks-dir .* is inside --uploads-dir/]);
  dir = base("uploads-in-tasks");
  mkdirSync(join(dir, "tasks"));
  cases.push(["uploads inside tasks", { tasks: join(dir, "tasks"), uploads: join(dir, "tasks", "up"), data: join(dir, "data") }, /--uploads-dir .* is inside --tasks-dir/]);
  dir = base("same");
  mkdirSync(join(dir, "all"));
  cases.push(["one folder for all", { tasks: join(dir, "all"), uploads: join(dir, "all"), data: join(dir, "data") }, /--uploads-dir .* is the same folder as --tasks-dir/]);
  dir = base("data-in-uploads");
  mkdirSync(join(dir, "tasks"));
  cases.push(["data inside uploads", { tasks: join(dir, "tasks"), uploads: join(dir, "up"), data: join(dir, "up", "data") }, /--data-dir .* is inside --uploads-dir/]);
  dir = base("through-a-link");
  mkdirSync(join(dir, "up", "real-tasks"), { recursive: true });
  symlinkSync(join(dir, "up", "real-tasks"), join(dir, "tasks"));
  cases.push(["tasks reached through a symlink into uploads", { tasks: join(dir, "tasks"), uploads: join(dir, "up"), data: join(dir, "data") }, /--tasks-dir .* is inside --uploads-dir/]);

  for (const [label, folders, expected] of cases) {
    const before = readdirSync(join(folders.tasks, "..")).sort();
    const stderr = await refusal(folders);
    const lines = stderr.split("\n").filter(Boolean);
    assert.equal(lines.length, 1, `${label}: one line, got:\n${stderr}`);
    assert.match(lines[0]!, /^sdci-server: /, label);
    assert.match(lines[0]!, expected, label);
    assert.equal(existsSync(folders.data), false, `${label}: the data folder was created`);
    assert.deepEqual(readdirSync(join(folders.tasks, "..")).sort(), before, `${label}: something was created`);
  }
});
