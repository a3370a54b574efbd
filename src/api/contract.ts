import type { OpenAPIHono } from "@hono/zod-openapi";
import { AssetUploads } from "../assets/asset-uploads.js";
import { DEFAULT_REFUSED_BODY_DRAIN } from "../assets/refused-body.js";
import { packageVersion } from "../package-info.js";
import { OperationLock } from "../runner/operation-lock.js";
import { RunStore } from "../runner/run-store.js";
import { TaskCatalog } from "../runner/task-catalog.js";
import { TaskRunner } from "../runner/task-runner.js";
import { silentLogger } from "../logger.js";
import { createApp } from "./app.js";
import { AuthThrottle } from "./auth-throttle.js";
import type { ApiEnv } from "./router.js";
import { StreamSlots } from "./stream-slots.js";

/** The OpenAPI 3.1 document the app's routes describe; openapi.yaml must equal it. */
export function contractDocument(app: OpenAPIHono<ApiEnv>) {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "SDCI",
      version: packageVersion,
      description: [
        "Run a host's task scripts remotely and watch their output live as Server-Sent Events,",
        "then get their exit code. Every route under /v1 needs the server's bearer token.",
        "Errors are RFC 9457 problem details (application/problem+json).",
      ].join(" "),
      license: { name: "MIT", url: "https://opensource.org/license/mit" },
    },
    servers: [
      { url: "/", description: "The server that serves this document" },
      { url: "http://127.0.0.1:8842", description: "A server on loopback with the default port" },
    ],
    tags: [
      { name: "server", description: "Health and state of the server" },
      { name: "tasks", description: "The task scripts the server can run" },
      { name: "runs", description: "Runs of tasks, their output and exit codes" },
      { name: "assets", description: "Build artifacts uploaded to the server, atomically" },
      { name: "contract", description: "This document" },
    ],
  });
}

/** The document of an app built only to be described: nothing it holds is ever called. */
export function describeApi() {
  const lock = new OperationLock();
  const store = new RunStore("/nonexistent");
  const runner = new TaskRunner({
    store,
    lock,
    tasksDir: "/nonexistent",
    uploadsDir: "/nonexistent",
    secrets: [],
    taskTimeoutMs: 0,
    killGraceMs: 0,
    drainMs: 0,
  });
  const app = createApp({
    token: "unused",
    catalog: new TaskCatalog("/nonexistent"),
    runner,
    store,
    lock,
    uploads: new AssetUploads({
      uploadsDir: "/nonexistent",
      maxBytes: 0,
      maxEntries: 0,
      idleTimeoutMs: 0,
      refusedBodyDrain: DEFAULT_REFUSED_BODY_DRAIN,
      lock,
    }),
    follow: { keepaliveMs: 15_000 },
    streams: new StreamSlots(0),
    authThrottle: new AuthThrottle(),
    contractYaml: "{}",
    logger: silentLogger,
  });
  return contractDocument(app);
}
