import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot, stopProcess } from "./server.js";

export interface PlainServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/baselines/plain-server.ts (`status [micros]` or `sink <dir>`) in its own Node process. */
export async function startPlainServer(mode: "status" | "sink", arg = ""): Promise<PlainServer> {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "bench", "baselines", "plain-server.ts"), mode, arg], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const match = /listening (\d+)/.exec(seen);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`the plain ${mode} server exited with ${code}`)));
  });
  child.stdout.resume();
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopProcess(child) };
}
