import { access, readFile, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { InputLines } from "./input-lines.js";
import { type ServiceRequest, type SystemdHost, prepareRunner, serverEntryPoint } from "./service-host.js";
import {
  type ServiceSpec,
  TOKEN_VARIABLE,
  environmentFilePath,
  renderEnvironmentFile,
  renderServiceUnit,
  unitFilePath,
} from "./service-unit.js";
import { requireSeparateFolders } from "../separate-folders.js";
import { SetupError } from "./setup-error.js";
import { unitInTheWay, unitInTheWayMessage } from "./unit-ownership.js";
import { isLoopback, parseFolder, parseListenAddress, parsePort, parseServiceName, readToken } from "./setup-options.js";
import type { Step, StepRunner } from "./steps.js";
import { type Account, lookupAccount } from "./user-account.js";

export interface SetupRequest extends ServiceRequest {
  ip?: string;
  port: string;
  token?: string;
  tokenFile?: string;
  tasksDir?: string;
  uploadsDir?: string;
  dataDir?: string;
  user?: string;
  force: boolean;
}

const MIN_TOKEN_LENGTH = 16;

/**
 * `sdci-server setup`: checks everything, shows or writes the environment file and the unit,
 * then reloads, enables and (re)starts the service. Returns the exit code.
 */
export async function installService(request: SetupRequest, host: SystemdHost): Promise<number> {
  const input = new InputLines(host.stdin);
  try {
    await install(request, host, input);
    return 0;
  } catch (error) {
    host.stderr.write(`sdci-server: ${(error as Error).message}\n`);
    return 1;
  } finally {
    input.close();
  }
}

async function install(request: SetupRequest, host: SystemdHost, input: InputLines): Promise<void> {
  const runner = prepareRunner(request, host);
  const serviceName = parseServiceName(request.serviceName);
  const listenAddress = parseListenAddress(request.ip);
  const port = parsePort(request.port);
  const account = await lookupAccount(request.user ?? invokingUser(host));
  const defaultsUsed = [request.tasksDir, request.uploadsDir, request.dataDir].some((value) => value === undefined);
  // A system account's home is often a placeholder (/nonexistent): its folders would be made at
  // the top of the file system, for that account.
  const homeIsReal = account.home !== "/" && (await stat(account.home).then((info) => info.isDirectory(), () => false));
  if (defaultsUsed && !homeIsReal) {
    const what = account.home === "/" ? "is the root folder" : "does not exist";
    throw new SetupError(
      `${account.name}'s home folder ${account.home} ${what}, so it cannot hold the service's folders: pass --tasks-dir, --uploads-dir and --data-dir`,
    );
  }
  const folder = (option: string, value: string | undefined, fallback: string) =>
    parseFolder(option, value ?? join(account.home, ".sdci", fallback));
  const spec: ServiceSpec = {
    serviceName,
    user: account.name,
    host: listenAddress,
    port,
    tasksDir: folder("--tasks-dir", request.tasksDir, "tasks"),
    uploadsDir: folder("--uploads-dir", request.uploadsDir, "uploads"),
    dataDir: folder("--data-dir", request.dataDir, "data"),
    nodePath: process.execPath,
    entryPoint: serverEntryPoint,
  };
  // What the server would refuse at every start is refused now, before anything is written.
  await requireSeparateFolders({
    "--tasks-dir": runner.hostPath(spec.tasksDir),
    "--uploads-dir": runner.hostPath(spec.uploadsDir),
    "--data-dir": runner.hostPath(spec.dataDir),
  }).catch((error: Error) => {
    throw new SetupError(error.message);
  });
  await access(spec.entryPoint).catch(() => {
    throw new SetupError(`${spec.entryPoint} is missing: build the package first (npm run build)`);
  });
  const token = await readToken({
    token: request.token,
    tokenFile: request.tokenFile,
    readStdinLine: () => input.next(),
    stdinIsTerminal: Boolean(host.stdin.isTTY),
  });
  if (!isLoopback(listenAddress)) {
    host.stderr.write(
      `sdci-server: warning: the service will serve plain HTTP on ${listenAddress}, which is not loopback: the token crosses the network in clear (put a TLS proxy in front)\n`,
    );
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    host.stderr.write(`sdci-server: warning: the token is shorter than ${MIN_TOKEN_LENGTH} characters\n`);
  }
  const unit = renderServiceUnit(spec);
  const steps = setupSteps(spec, account, unit, renderEnvironmentFile(token));
  const unitPath = unitFilePath(serviceName);
  const inTheWay = await unitInTheWay(serviceName, (path) => runner.hostPath(path));
  if (inTheWay) throw new SetupError(unitInTheWayMessage(serviceName, inTheWay, "choose another --service-name"));
  const existingUnit = await readFile(runner.hostPath(unitPath), "utf8").catch(() => undefined);

  if (request.dryRun) {
    printPlan(host, runner, steps, unit, existingUnit !== undefined);
    return;
  }
  if (existingUnit !== undefined && !request.force && !(await confirmReplace(host, input, runner.hostPath(unitPath)))) {
    throw new SetupError(`nothing changed: ${runner.hostPath(unitPath)} was kept (--force replaces it without asking)`);
  }
  await runner.run(steps);
  printNextSteps(host, request, runner, spec);
}

/** Under sudo the person is SUDO_USER, and the service is meant for them, not for root. */
function invokingUser(host: SystemdHost): string {
  const sudoUser = host.env.SUDO_USER;
  if (host.euid === 0 && sudoUser) return sudoUser;
  return userInfo().username;
}

/** The env file goes first so the unit never points to a file that is not there yet. */
function setupSteps(spec: ServiceSpec, account: Account, unit: string, environmentFile: string): Step[] {
  const unitName = `${spec.serviceName}.service`;
  // Three folders apart: install() refused any that are one another or nested.
  const folders = [spec.tasksDir, spec.uploadsDir, spec.dataDir];
  return [
    ...folders.map((path): Step => ({ kind: "user-folder", path, owner: account })),
    { kind: "root-folder", path: "/etc/sdci" },
    { kind: "write", path: environmentFilePath(spec.serviceName), content: environmentFile, mode: 0o600 },
    { kind: "root-folder", path: "/etc/systemd/system" },
    { kind: "write", path: unitFilePath(spec.serviceName), content: unit, mode: 0o644 },
    { kind: "systemctl", args: ["daemon-reload"] },
    { kind: "systemctl", args: ["enable", unitName] },
    { kind: "systemctl", args: ["restart", unitName] },
  ];
}

/** The default is no: an empty line, end of input or anything but y/yes keeps the unit. */
async function confirmReplace(host: SystemdHost, input: InputLines, unitPath: string): Promise<boolean> {
  host.stdout.write(`${unitPath} already exists. Replace it and its token file? [y/N] `);
  const answer = await input.next();
  if (answer === undefined) host.stdout.write("\n");
  return /^\s*y(es)?\s*$/i.test(answer ?? "");
}

function printPlan(host: SystemdHost, runner: StepRunner, steps: Step[], unit: string, unitExists: boolean): void {
  const out = host.stdout;
  out.write("Dry run: nothing is written, nothing is started.\n\n");
  for (const step of steps) {
    if (step.kind !== "write") continue;
    const isUnit = step.path.endsWith(".service");
    const note = isUnit
      ? unitExists
        ? "replaces the existing unit; asks first unless --force"
        : "new"
      : "owner root, mode 0600; the token is hidden here";
    out.write(`--- ${runner.hostPath(step.path)} (${note})\n`);
    out.write(isUnit ? unit : `${TOKEN_VARIABLE}=********\n`);
    out.write("\n");
  }
  out.write("--- commands\n");
  for (const step of steps) out.write(`${runner.describe(step)}\n`);
}

function printNextSteps(host: SystemdHost, request: SetupRequest, runner: StepRunner, spec: ServiceSpec): void {
  const name = spec.serviceName;
  const address = spec.host.includes(":") ? `[${spec.host}]` : spec.host;
  const started = request.root === undefined || request.systemctl !== undefined;
  host.stdout.write(
    [
      started
        ? `sdci-server: the service ${name} is installed, enabled and (re)started: http://${address}:${spec.port}`
        : `sdci-server: the files of the service ${name} are written under ${runner.hostPath("/")}; systemctl was not run`,
      `  status:  systemctl status ${name}`,
      `  logs:    journalctl -u ${name} -f`,
      `  tasks:   ${spec.tasksDir}/<name>.sh`,
      // Under --root the undo must stay there too: without it, it would remove the host's own service.
      `  undo:    sdci-server uninstall --service-name ${name}${request.root === undefined ? "" : ` --root ${shellQuote(request.root)}`}`,
      "",
    ].join("\n"),
  );
}

/** A word a POSIX shell reads back as it is. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
