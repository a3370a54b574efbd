// Issue 10: SDCI installs like any Node command-line tool. `npm pack` makes a tarball of only
// what runs; installed from it (globally, or into a project for npx) both commands work from
// any folder, and the server finds its own assets inside the installed package.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir, userInfo } from "node:os";
import { dirname, join, posix, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import ts from "typescript";
import { repoRoot } from "./helpers/server.js";

/**
 * The tarball's budget: room for the code to grow, none for a stray bundle, source map or test.
 * Swagger UI's files (copied into dist/swagger-ui/ by the build) have a budget of their own.
 */
const PACKED_BUDGET_BYTES = 800 * 1024;
const CODE_BUDGET_BYTES = 400 * 1024;
const SWAGGER_UI_BUDGET_BYTES = 2.5 * 1024 * 1024;
const FILE_COUNT_BUDGET = 150;
const SWAGGER_UI_DIR = "dist/swagger-ui/";

const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};
const runtimeDependencies = new Set([
  ...Object.keys(manifest.dependencies),
  ...Object.keys(manifest.optionalDependencies ?? {}),
]);

interface PackedFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackedFile[];
}

interface Output {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (bounded in time), resolving with its exit code and output. */
function runProgram(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Output> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** npm as a user runs it: none of the npm_* settings of the `npm test` around us, the usual cache. */
function npmEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  if (process.env.npm_config_cache) env.npm_config_cache = process.env.npm_config_cache;
  return { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
}

async function npm(args: string[], cwd: string): Promise<string> {
  const result = await runProgram("npm", args, { cwd, env: npmEnv() });
  assert.equal(result.code, 0, `npm ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

/** A shell's PATH with the installed bins first and nothing of this repository on it. */
function pathWith(binDir: string): string {
  return [binDir, dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(":");
}

/** The package a bare import specifier names: `hono/http-exception` -> `hono`, `@a/b/c` -> `@a/b`. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

function dependencyManifest(name: string): { peerDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(repoRoot, "node_modules", name, "package.json"), "utf8"));
}

/** Every module specifier a built file loads: static and dynamic imports, and resolve() calls. */
function specifiersIn(source: string): string[] {
  const imports = ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
  // import.meta.resolve("x"), require.resolve("x"), createRequire(url).resolve("x")
  const resolved = [...source.matchAll(/(?:import\.meta|require|\))\.resolve\(\s*["']([^"']+)["']/g)].map((m) => m[1]!);
  // createRequire(url)("x")
  const required = [...source.matchAll(/createRequire\([^)]*\)\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]!);
  return [...imports, ...resolved, ...required];
}

interface InstalledServer {
  url: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts an installed `sdci-server serve` as a user would, from `cwd`, on a free loopback port. */
async function startInstalledServer(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, ["serve", "--port", "0", ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the installed server did not start:\n${output}`)), 20_000);
    child.stdout.on("data", () => {
      const match = /listening on (http[^\s"]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the installed server exited with ${code}:\n${output}`));
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  return { url, process: child, output: () => output, stop } satisfies InstalledServer;
}

/** The contract this server answers with is the installed package's openapi.yaml, as the repo has it. */
async function assertServesContract(url: string, installedRoot: string) {
  const contract = await fetch(`${url}/openapi.yaml`);
  assert.equal(contract.status, 200);
  const text = await contract.text();
  assert.equal(text, readFileSync(join(installedRoot, "openapi.yaml"), "utf8"));
  assert.equal(text, readFileSync(join(repoRoot, "openapi.yaml"), "utf8"));
}

/** Swagger UI at /docs, with every asset its page links and every file copied for it, from this server. */
async function assertServesDocs(url: string, installedRoot: string) {
  const page = await fetch(`${url}/docs`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)=["']([^"'#]+)["']/g)]
    .map((match) => new URL(match[1]!, page.url))
    .filter((asset) => asset.origin === new URL(url).origin);
  assert.ok(assets.some((asset) => asset.pathname.endsWith(".js")), `no script on /docs:\n${html}`);
  for (const file of readdirSync(join(installedRoot, SWAGGER_UI_DIR))) {
    if (!["LICENSE", "NOTICE"].includes(file)) assets.push(new URL(`/docs/${file}`, url));
  }
  for (const asset of assets) {
    const response = await fetch(asset);
    assert.equal(response.status, 200, `${asset.pathname} answered ${response.status}`);
    assert.ok((await response.arrayBuffer()).byteLength > 0, `${asset.pathname} is empty`);
  }
}

let work: string;
let tarball: string;
let packed: PackResult;
/** A clean global prefix, and a project folder, each with the tarball installed. */
let prefix: string;
let project: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "sdci-package-"));
  assert.ok(existsSync(join(repoRoot, "dist", "cli", "main.js")), "dist/ is missing: run `npm run build` first");
  // --ignore-scripts: `npm test` has just built dist/, and rebuilding it here would pull it
  // from under the tests that run beside this one. `prepare` rebuilds it on a real `npm pack`.
  const stdout = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], repoRoot);
  packed = (JSON.parse(stdout) as PackResult[])[0]!;
  tarball = join(work, packed.filename);
  prefix = join(work, "prefix");
  project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "deploy-scripts", private: true }));
  // Both at once: each is mostly waiting on the npm cache, and the test has a time budget.
  await Promise.all([
    npm(["install", "--global", "--prefix", prefix, "--prefer-offline", tarball], work),
    npm(["install", "--prefer-offline", tarball], project),
  ]);
});

after(() => rmSync(work, { recursive: true, force: true }));

describe("npm pack", () => {
  test("the tarball holds only what runs: dist/, openapi.yaml, examples/tasks, README, LICENSE", () => {
    const paths = packed.files.map((file) => file.path).sort();
    const runs = (path: string) =>
      ["package.json", "README.md", "LICENSE", "openapi.yaml"].includes(path) ||
      /^dist\/[\w/.-]+\.js$/.test(path) ||
      path.startsWith(SWAGGER_UI_DIR) ||
      /^examples\/tasks\/[\w.-]+\.sh$/.test(path);
    assert.deepEqual(paths.filter((path) => !runs(path)), []);
    const licences = [`${SWAGGER_UI_DIR}LICENSE`, `${SWAGGER_UI_DIR}NOTICE`];
    for (const needed of ["package.json", "README.md", "LICENSE", "openapi.yaml", ...licences, ...Object.values(manifest.bin)]) {
      assert.ok(paths.includes(posix.normalize(needed)), `${needed} is missing from the tarball`);
    }
    assert.ok(paths.some((path) => path.startsWith("examples/tasks/")), "examples/tasks is missing");
    for (const excluded of ["test/", "src/", ".ci/", "scripts/", "generated/", "node_modules/", "bench/"]) {
      assert.deepEqual(paths.filter((path) => path.startsWith(excluded)), [], `${excluded} must not be packed`);
    }
    assert.deepEqual(paths.filter((path) => /\.(ts|map|tsbuildinfo)$/.test(path)), []);
  });

  test("dist/ in the tarball is the build of src/: one module per source, nothing stale", () => {
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) sources.push(path);
      }
    };
    walk(join(repoRoot, "src"));
    const expected = sources.map((path) => `dist/${relative(join(repoRoot, "src"), path).replace(/\.ts$/, ".js")}`).sort();
    const packedDist = packed.files
      .map((file) => file.path)
      .filter((path) => path.startsWith("dist/") && !path.startsWith(SWAGGER_UI_DIR))
      .sort();
    assert.deepEqual(packedDist, expected);
  });

  test("the tarball stays under its budget: 800 kB packed; 400 kB of code, 2.5 MB of Swagger UI unpacked", () => {
    assert.equal(statSync(tarball).size, packed.size);
    assert.ok(packed.size <= PACKED_BUDGET_BYTES, `packed ${packed.size} bytes > ${PACKED_BUDGET_BYTES}`);
    const bytes = (files: PackedFile[]) => files.reduce((sum, file) => sum + file.size, 0);
    const swaggerUi = bytes(packed.files.filter((file) => file.path.startsWith(SWAGGER_UI_DIR)));
    const code = bytes(packed.files) - swaggerUi;
    assert.ok(code <= CODE_BUDGET_BYTES, `unpacked code ${code} bytes > ${CODE_BUDGET_BYTES}`);
    assert.ok(swaggerUi <= SWAGGER_UI_BUDGET_BYTES, `Swagger UI ${swaggerUi} bytes > ${SWAGGER_UI_BUDGET_BYTES}`);
    assert.ok(packed.entryCount <= FILE_COUNT_BUDGET, `${packed.entryCount} files > ${FILE_COUNT_BUDGET}`);
  });

  test("every package dist/ loads is a runtime dependency, and every runtime dependency is loaded", () => {
    const paths = new Set(packed.files.map((file) => file.path));
    const used = new Set<string>();
    for (const path of paths) {
      if (!path.endsWith(".js")) continue;
      for (const specifier of specifiersIn(readFileSync(join(repoRoot, path), "utf8"))) {
        if (specifier.startsWith(".")) {
          const target = posix.join(posix.dirname(path), specifier);
          assert.ok(paths.has(target), `${path} imports ${specifier}, which is not in the tarball`);
        } else if (!isBuiltin(specifier)) {
          const name = packageOf(specifier);
          assert.ok(
            runtimeDependencies.has(name),
            `${path} imports ${specifier}: ${name} must be in dependencies${name in manifest.devDependencies ? ", not devDependencies" : ""}`,
          );
          used.add(name);
        }
      }
    }
    // A dependency nothing imports may still be the peer another one needs (zod for @hono/zod-openapi).
    const peers = [...used].flatMap((name) => Object.keys(dependencyManifest(name).peerDependencies ?? {}));
    const unused = [...runtimeDependencies].filter((name) => !used.has(name) && !peers.includes(name));
    assert.deepEqual(unused, [], "dependencies that nothing loads");
  });
});

describe("installed globally from the tarball into a clean prefix", () => {
  let installed: string;
  let elsewhere: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    elsewhere = join(work, "elsewhere");
    mkdirSync(elsewhere);
    installed = join(prefix, "lib", "node_modules", manifest.name);
    env = { ...npmEnv(), PATH: pathWith(join(prefix, "bin")), SDCI_TOKEN: "", SDCI_SERVER_TOKEN: "" };
  });

  test("sdci-server and sdci-cli are on PATH: links to executable node scripts in the package", () => {
    for (const [name, target] of Object.entries(manifest.bin)) {
      const link = join(prefix, "bin", name);
      assert.ok(lstatSync(link).isSymbolicLink(), `${link} is not a link`);
      assert.equal(realpathSync(link), realpathSync(join(installed, target)));
      assert.ok((statSync(link).mode & 0o111) === 0o111, `${name} is not executable by all`);
      assert.equal(readFileSync(link, "utf8").split("\n")[0], "#!/usr/bin/env node");
    }
  });

  test("sdci-cli --version and sdci-server --version print the package version, from any folder", async () => {
    for (const name of Object.keys(manifest.bin)) {
      for (const cwd of [elsewhere, "/"]) {
        const result = await runProgram(name, ["--version"], { cwd, env });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), manifest.version, `${name} --version in ${cwd}`);
      }
    }
  });

  test("no dev dependency is installed, and every package dist/ loads imports in the installed copy", async () => {
    for (const name of Object.keys(manifest.devDependencies)) {
      assert.ok(!existsSync(join(installed, "node_modules", name)), `dev dependency ${name} was installed`);
    }
    const specifiers = new Set<string>();
    for (const file of packed.files.filter((file) => file.path.endsWith(".js"))) {
      for (const specifier of specifiersIn(readFileSync(join(installed, file.path), "utf8"))) {
        if (!specifier.startsWith(".") && !isBuiltin(specifier)) specifiers.add(specifier);
      }
    }
    // Loaded from inside the installed package, as its own modules load them: a native
    // binding (the keychain's) whose prebuilt platform package is missing fails here.
    const script = `for (const s of ${JSON.stringify([...specifiers])}) await import(s);`;
    const result = await runProgram(process.execPath, ["--input-type=module", "--eval", script], { cwd: installed, env });
    assert.equal(result.code, 0, result.stderr);
  });

  test("sdci-server setup writes a unit that starts the installed copy", async () => {
    const tokenFile = join(elsewhere, "token");
    writeFileSync(tokenFile, `${randomBytes(24).toString("hex")}\n`, { mode: 0o600 });
    const args = ["setup", "--ip", "127.0.0.1", "--user", userInfo().username, "--token-file", tokenFile, "--dry-run"];
    const result = await runProgram("sdci-server", args, { cwd: elsewhere, env });
    assert.equal(result.code, 0, result.stderr);
    const execStart = /^ExecStart=(.*)$/m.exec(result.stdout)?.[1];
    assert.ok(execStart?.includes(`"${join(realpathSync(installed), "dist", "server", "main.js")}" "serve"`), execStart);
  });

  describe("sdci-server serve, started from another folder", () => {
    let server: InstalledServer;
    let token: string;

    before(async () => {
      token = randomBytes(24).toString("base64url");
      const tasksDir = join(installed, "examples", "tasks");
      server = await startInstalledServer("sdci-server", ["--tasks-dir", tasksDir], elsewhere, {
        ...env,
        SDCI_SERVER_TOKEN: token,
      });
    });

    after(async () => {
      await server.stop();
      assert.equal(server.process.exitCode, 0, server.output());
    });

    test("sdci-cli run gets the task's output and exit code from it", async () => {
      const cliEnv = { ...env, SDCI_TOKEN: token };
      const hello = await runProgram("sdci-cli", ["run", server.url, "hello", "two words", "-x"], { cwd: elsewhere, env: cliEnv });
      assert.equal(hello.code, 0, hello.stderr);
      assert.match(hello.stdout, /^hello from /m);
      assert.match(hello.stdout, /^param: two words\nparam: -x\n/m);
      const fail = await runProgram("sdci-cli", ["run", server.url, "fail", "7"], { cwd: elsewhere, env: cliEnv });
      assert.equal(fail.code, 7);
      assert.match(fail.stdout, /about to fail with exit code 7/);
      assert.match(fail.stderr, /warning: this task fails on purpose/);
    });

    test("its data and uploads default to the working folder, never the package's", () => {
      assert.ok(existsSync(join(elsewhere, "data")) && existsSync(join(elsewhere, "uploads")));
      assert.ok(!existsSync(join(installed, "data")) && !existsSync(join(installed, "uploads")));
    });

    test("it serves /openapi.yaml from the installed package", () => assertServesContract(server.url, installed));

    test("it serves Swagger UI at /docs from the installed package", () => assertServesDocs(server.url, installed));
  });
});

describe("installed into a project, for npx", () => {
  test("npx sdci-cli and npx sdci-server run the installed commands", async () => {
    const env = { ...npmEnv(), PATH: pathWith(join(work, "no-such-bin")) };
    for (const name of Object.keys(manifest.bin)) {
      const result = await runProgram("npx", [name, "--version"], { cwd: project, env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), manifest.version);
    }
  });

  describe("the server of a project install, where npm hoisted the dependencies", () => {
    let installed: string;
    let server: InstalledServer;

    before(async () => {
      installed = join(project, "node_modules", manifest.name);
      assert.ok(!existsSync(join(installed, "node_modules", "hono")), "expected hoisted dependencies");
      const tasks = join(work, "project-tasks");
      mkdirSync(tasks);
      server = await startInstalledServer(
        join(project, "node_modules", ".bin", "sdci-server"),
        ["--tasks-dir", tasks, "--data-dir", join(work, "project-data"), "--uploads-dir", join(work, "project-uploads")],
        tasks,
        { ...npmEnv(), SDCI_SERVER_TOKEN: randomBytes(24).toString("base64url") },
      );
    });

    after(() => server.stop());

    test("it serves /openapi.yaml from the installed package", () => assertServesContract(server.url, installed));

    test("it serves Swagger UI at /docs from the installed package", () => assertServesDocs(server.url, installed));
  });
});
