// The main job, end to end: a server on loopback with examples/tasks and a random token,
// tasks run through the CLI with their output live and their exit codes shown, then a clean stop.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "sdci-demo-"));
const token = randomBytes(24).toString("base64url");
const bold = process.stdout.isTTY ? (text) => `\x1b[1m${text}\x1b[0m` : (text) => text;
const say = (line) => console.log(bold(`# ${line}`));

const server = spawn(
  process.execPath,
  [join(root, "dist/server/main.js"), "serve", "--port", "0", "--tasks-dir", join(root, "examples/tasks"),
    "--uploads-dir", join(work, "uploads"), "--data-dir", join(work, "data")],
  { env: { ...process.env, SDCI_SERVER_TOKEN: token }, stdio: ["ignore", "pipe", "inherit"] },
);
const url = await new Promise((resolve, reject) => {
  let seen = "";
  server.stdout.on("data", (chunk) => {
    seen += chunk;
    const match = /listening on (http[^\s"]+)/.exec(seen);
    if (match) resolve(match[1]);
  });
  server.once("exit", (code) => reject(new Error(`sdci-server exited with ${code}`)));
});
say(`sdci-server is listening on ${url} with a random token`);

function cli(...args) {
  say(`sdci-cli ${args.join(" ")}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "dist/cli/main.js"), ...args], {
      env: { ...process.env, SDCI_TOKEN: token },
      stdio: "inherit",
    });
    child.once("exit", (code) => {
      say(`exit code ${code}`);
      resolve(code);
    });
  });
}

const results = [
  (await cli("run", url, "hello", "world", "two words")) === 0,
  (await cli("run", url, "slow", "3")) === 0,
  (await cli("run", url, "fail", "3")) === 3,
];

say("stopping the server");
server.kill("SIGTERM");
const serverCode = await new Promise((resolve) => server.once("exit", resolve));
rmSync(work, { recursive: true, force: true });
const ok = results.every(Boolean) && serverCode === 0;
say(ok ? "demo finished: every exit code was as expected" : "demo FAILED: an exit code was not as expected");
process.exitCode = ok ? 0 : 1;
