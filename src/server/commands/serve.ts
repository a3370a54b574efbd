import { Command, Option } from "clipanion";
import { DEFAULT_AUTH_THROTTLE } from "../../api/auth-throttle.js";
import { DEFAULT_MAX_STREAMS } from "../../api/stream-slots.js";
import { DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_ENTRIES, DEFAULT_UPLOAD_IDLE_SECONDS } from "../../assets/upload-defaults.js";
import { LOG_LEVELS } from "../../log-levels.js";
import { t } from "../../typanion.js";
import { parseByteSize } from "../byte-size.js";
import { DEFAULT_HTTP_LIMITS } from "../http-limits.js";
import { StartupError } from "../startup-error.js";
import { isSendableToken, readTokenLine } from "../../token-rules.js";

const MIN_TOKEN_LENGTH = 16;

const isSeconds = t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(0, 31 * 24 * 3600)]);

export class ServeCommand extends Command {
  static override paths = [["serve"]];

  static override usage = Command.Usage({
    description: "Serve the tasks folder over HTTP",
    details: `
      Starts the SDCI server. Every route under /v1 needs the server token, given by
      \`--server-token-file\`, the \`SDCI_SERVER_TOKEN\` environment variable, or \`--server-token\`
      (which other users of the host can read in the process list: prefer the other two).

      The server listens on loopback unless told otherwise. The token travels in every request:
      beyond loopback, serve HTTPS with \`--tls-cert\` and \`--tls-key\`, or put the server behind
      a TLS proxy.
    `,
    examples: [
      ["Serve ./tasks on 127.0.0.1:8842", "SDCI_SERVER_TOKEN=$(cat token) $0 serve"],
      ["Serve another folder on all interfaces of a private network", "$0 serve --host 0.0.0.0 --tasks-dir /srv/sdci/tasks --server-token-file /etc/sdci/token"],
      ["Serve HTTPS", "$0 serve --host 0.0.0.0 --tls-cert /etc/sdci/cert.pem --tls-key /etc/sdci/key.pem --server-token-file /etc/sdci/token"],
    ],
  });

  host = Option.String("--host", "127.0.0.1", { description: "Address to listen on" });
  port = Option.String("--port", "8842", {
    description: "Port to listen on (0: any free port)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(0, 65535)]),
  });
  serverToken = Option.String("--server-token", { description: "The token clients must send (visible in the process list)" });
  serverTokenFile = Option.String("--server-token-file", { description: "A file whose first line is the token" });
  tasksDir = Option.String("--tasks-dir", process.env.TASKS_DIR ?? "./tasks", {
    description: "Folder of <task>.sh scripts (env TASKS_DIR)",
  });
  uploadsDir = Option.String("--uploads-dir", process.env.UPLOADS_DIR ?? process.env.UPLOAD_DIR ?? "./uploads", {
    description: "Folder that receives uploads (env UPLOADS_DIR; UPLOAD_DIR also read)",
  });
  dataDir = Option.String("--data-dir", process.env.SDCI_DATA_DIR ?? "./data", {
    description: "Folder for run history and logs (env SDCI_DATA_DIR)",
  });
  taskTimeout = Option.String("--task-timeout", "3600", {
    description: "Seconds a run may take before it is stopped as timed_out (0: no limit)",
    validator: isSeconds,
  });
  killGrace = Option.String("--kill-grace", "10", {
    description: "Seconds between SIGTERM and SIGKILL when a run is stopped",
    validator: isSeconds,
  });
  maxUploadSize = Option.String("--max-upload-size", `${DEFAULT_MAX_UPLOAD_BYTES / 1024 ** 3}G`, {
    description: "Largest upload accepted, in bytes or with K, M, G or T (binary multiples)",
  });
  maxUploadEntries = Option.String("--max-upload-entries", String(DEFAULT_MAX_UPLOAD_ENTRIES), {
    description: "Most files and folders one folder upload may hold",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });
  uploadIdleTimeout = Option.String("--upload-idle-timeout", String(DEFAULT_UPLOAD_IDLE_SECONDS), {
    description: "Seconds an upload's body may send nothing before it is dropped (0: never)",
    validator: isSeconds,
  });
  keepRuns = Option.String("--keep-runs", "500", {
    description: "Finished runs whose record and output stay on disk, newest first (0: all)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(0)]),
  });
  keepalive = Option.String("--keepalive", "15", {
    description: "Seconds of silence before an SSE keepalive comment",
    validator: t.cascade(t.isNumber(), [t.isInInclusiveRange(0.01, 3600)]),
  });

  logLevel = Option.String("--log-level", process.env.SDCI_LOG_LEVEL ?? "info", {
    description: `Least severe log records written: ${LOG_LEVELS.join(", ")} (env SDCI_LOG_LEVEL)`,
    validator: t.isEnum(LOG_LEVELS),
  });
  logParams = Option.Boolean("--log-params", false, {
    description: "Also log each run's parameters (off: they may carry what a log should not)",
  });

  headersTimeout = Option.String("--headers-timeout", String(DEFAULT_HTTP_LIMITS.headersTimeoutMs / 1000), {
    description: "Seconds a client may take to send its request headers; slower ones are dropped (408)",
    validator: t.cascade(t.isNumber(), [t.isInInclusiveRange(0.1, 3600)]),
  });
  idleTimeout = Option.String("--idle-timeout", String(DEFAULT_HTTP_LIMITS.idleTimeoutMs / 1000), {
    description: "Seconds a connection may pass no bytes either way before it is closed (0: never)",
    validator: isSeconds,
  });
  maxStreams = Option.String("--max-streams", String(DEFAULT_MAX_STREAMS), {
    description: "Event and log streams open at once; more get 503 with Retry-After",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 100_000)]),
  });
  authMaxFailures = Option.String("--auth-max-failures", String(DEFAULT_AUTH_THROTTLE.maxFailures), {
    description: "Wrong tokens from one address within a minute before it is refused for a minute (0: never)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(0, 1_000_000)]),
  });
  tlsCert = Option.String("--tls-cert", { description: "Serve HTTPS with this PEM certificate (chain) file" });
  tlsKey = Option.String("--tls-key", { description: "The PEM private key of --tls-cert" });

  async execute(): Promise<number> {
    if ((this.tlsCert === undefined) !== (this.tlsKey === undefined)) {
      this.context.stderr.write("sdci-server: --tls-cert and --tls-key go together: pass both or neither\n");
      return 1;
    }
    let token;
    try {
      token = await this.#readToken();
    } catch (error) {
      this.context.stderr.write(`sdci-server: ${startupMessage(error)}\n`);
      return 1;
    }
    if (token === undefined) {
      this.context.stderr.write(
        "sdci-server: no server token: pass --server-token-file FILE, set SDCI_SERVER_TOKEN, or pass --server-token\n",
      );
      return 1;
    }
    // Children inherit the environment; the token must not be there for them to find.
    delete process.env.SDCI_SERVER_TOKEN;
    if (/[\s\u0000-\u001f\u007f]/.test(token)) {
      this.context.stderr.write(
        "sdci-server: the server token holds a blank or a control character: no client could send it (a token is one word of visible ASCII)\n",
      );
      return 1;
    }
    // Earlier versions took such tokens, and a client that sends Latin-1 can still match one:
    // a service set up with one must not stop starting after an upgrade.
    if (!isSendableToken(token)) {
      this.context.stderr.write("sdci-server: warning: the server token holds a non-ASCII character, which sdci-cli and most HTTP clients cannot send\n");
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      this.context.stderr.write(`sdci-server: warning: the server token is shorter than ${MIN_TOKEN_LENGTH} characters\n`);
    }
    const maxUploadBytes = parseByteSize(this.maxUploadSize);
    if (maxUploadBytes === undefined) {
      this.context.stderr.write(`sdci-server: --max-upload-size: '${this.maxUploadSize}' is not a size such as 2G, 500M or 1048576\n`);
      return 1;
    }
    // The logger and the HTTP stack load only here, so `--help` and `--version` start as fast as clipanion does.
    const [{ createLogger }, { startServer }] = await Promise.all([import("../../logger.js"), import("../server.js")]);
    const logger = createLogger(this.logLevel);
    let server;
    try {
      server = await startServer({
        host: this.host,
        port: this.port,
        token,
        tasksDir: this.tasksDir,
        uploadsDir: this.uploadsDir,
        dataDir: this.dataDir,
        taskTimeoutMs: this.taskTimeout * 1000,
        killGraceMs: this.killGrace * 1000,
        keepaliveMs: this.keepalive * 1000,
        maxUploadBytes,
        maxUploadEntries: this.maxUploadEntries,
        uploadIdleTimeoutMs: this.uploadIdleTimeout * 1000,
        keepRuns: this.keepRuns,
        limits: { headersTimeoutMs: this.headersTimeout * 1000, idleTimeoutMs: this.idleTimeout * 1000 },
        maxStreams: this.maxStreams,
        authThrottle: { ...DEFAULT_AUTH_THROTTLE, maxFailures: this.authMaxFailures },
        tls: this.tlsCert && this.tlsKey ? { certFile: this.tlsCert, keyFile: this.tlsKey } : undefined,
        logger,
        logParams: this.logParams,
      });
    } catch (error) {
      this.context.stderr.write(`sdci-server: ${startupMessage(error)}\n`);
      return 1;
    }
    // Where the server listens is said even at --log-level warn: it is what a person or a
    // supervisor waits for (only "silent" silences it).
    const announce = this.logLevel === "silent" ? logger : logger.child({}, { level: "info" });
    announce.info({ url: server.url }, `listening on ${server.url}`);
    await new Promise<void>((resolveStop) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        // A second Ctrl-C must not kill the server mid-shutdown: its runs' process groups
        // would outlive it, unkilled. The shutdown is bounded by --kill-grace anyway.
        if (stopping) {
          logger.warn({ signal }, `already stopping: runs get at most ${this.killGrace} s to end before they are killed`);
          return;
        }
        stopping = true;
        logger.info({ signal }, "stopping");
        server.close().then(resolveStop);
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      // A closed terminal or ssh session: by default it would end the server with no
      // shutdown at all, its runs' process groups left running and unrecorded.
      process.on("SIGHUP", stop);
    });
    logger.info("stopped");
    logger.flush();
    return 0;
  }

  /** The first of --server-token, --server-token-file and SDCI_SERVER_TOKEN that is set. */
  async #readToken(): Promise<string | undefined> {
    if (this.serverToken !== undefined) return nonEmpty(this.serverToken);
    if (this.serverTokenFile !== undefined) {
      const file = this.serverTokenFile;
      const line = await readTokenLine(file).catch((error: Error) => {
        throw new StartupError(`the token file ${file} ${error.message}`);
      });
      if (!line) throw new StartupError(`the first line of the token file ${file} is empty`);
      return line;
    }
    return nonEmpty(process.env.SDCI_SERVER_TOKEN);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function startupMessage(error: unknown): string {
  if (error instanceof StartupError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return "the port is already in use (choose another with --port)";
  if (code === "EADDRNOTAVAIL") return "the address is not one of this host's (check --host)";
  if (code === "EACCES") return `permission denied: ${(error as Error).message}`;
  return (error as Error).message;
}
