import type { HttpBindings } from "@hono/node-server";
import { createRoute, z } from "@hono/zod-openapi";
import type { AssetUploads } from "../../assets/asset-uploads.js";
import { ASSETS_PREFIX, expectsContinue } from "../../assets/expect-continue.js";
import { answerWhileDraining } from "../../assets/refused-body.js";
import { UploadError } from "../../assets/upload-error.js";
import { type ProblemKind, problemBody, problemResponse } from "../problem.js";
import { createRouter } from "../router.js";
import { ProblemSchema } from "../schemas.js";

/** An upload holds the lock for as long as its body takes: only a hint for when to ask again. */
const BUSY_RETRY_AFTER_SECONDS = "5";

const ASSET_EXAMPLE = {
  path: "releases/v1.2.3/app.tar.gz",
  size: 48213,
  sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
};

const AssetSchema = z
  .object({
    path: z.string().openapi({ example: ASSET_EXAMPLE.path }),
    size: z.number().int().openapi({ description: "Bytes received (for a folder: of the tar stream)", example: ASSET_EXAMPLE.size }),
    sha256: z.string().openapi({
      description: "Hex SHA-256 of the bytes received (for a folder: of the tar stream)",
      example: ASSET_EXAMPLE.sha256,
    }),
  })
  .openapi("Asset");

const binary = z.string().openapi({ format: "binary" });
const problem = (description: string, kind: ProblemKind, detail: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema, example: problemBody(kind, detail) } },
});

const putAsset = createRoute({
  method: "put",
  path: "/v1/assets/{path}",
  operationId: "uploadAsset",
  tags: ["assets"],
  summary: "Upload a file or a folder",
  description: [
    "Stores the body at `path` under the server's uploads folder, atomically: the destination",
    "either holds exactly the bytes sent or does not exist. Nothing is ever replaced (409).",
    "A raw body (`application/octet-stream`, or no Content-Type as `curl -T` sends it) is a file;",
    "an `application/x-tar` body is a folder, extracted whole before it appears (plain files and",
    "folders only). Send `Content-Length` or a chunked body, and `Content-Digest: sha-256=:<base64>:`",
    "(RFC 9530) as a header or trailer to have the body verified (422 on a mismatch).",
    "With `Expect: 100-continue` the server refuses (or accepts) before the body is sent.",
  ].join(" "),
  security: [{ bearerAuth: [] }],
  request: {
    params: z.object({
      path: z.string().openapi({
        param: {
          name: "path",
          in: "path",
          description: [
            "Destination under the uploads folder; its `/` may be sent raw or as `%2F`. Each part:",
            "letters, digits and `._+@=,~-`, starting with a letter, digit or `_`, at most 255 characters.",
          ].join(" "),
        },
        example: ASSET_EXAMPLE.path,
      }),
    }),
    headers: z.object({
      "content-digest": z.string().optional().openapi({
        param: { description: "RFC 9530 digest of the body; `sha-256` is checked" },
        example: "sha-256=:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=:",
      }),
    }),
    body: {
      required: true,
      content: { "application/octet-stream": { schema: binary }, "application/x-tar": { schema: binary } },
    },
  },
  responses: {
    201: { description: "The asset is in place", content: { "application/json": { schema: AssetSchema, example: ASSET_EXAMPLE } } },
    400: problem(
      "Bad destination path, bad archive entry, or a body that ended early",
      "invalid-request",
      "bad destination path: empty part (a leading, trailing or doubled '/')",
    ),
    401: problem("Missing or wrong bearer token", "unauthorized", "the token was not accepted"),
    409: problem(
      "The destination (or a file where a parent folder should be) already exists, or another program removed its folder during the upload",
      "asset-exists",
      "'releases/v1.2.3/app.tar.gz' already exists on the server; uploads never replace anything",
    ),
    411: problem("Neither Content-Length nor a chunked body", "length-required", "send Content-Length, or the body with chunked Transfer-Encoding"),
    413: problem(
      "The body is larger than the server's --max-upload-size",
      "payload-too-large",
      "an upload may have at most 2147483648 bytes (the server's --max-upload-size)",
    ),
    415: problem(
      "Neither application/octet-stream nor application/x-tar",
      "unsupported-media-type",
      "send a file as application/octet-stream or a folder as application/x-tar",
    ),
    422: problem(
      "The body does not match its Content-Digest",
      "digest-mismatch",
      "the body's sha-256 is qBuxMf7PPXWDAxGEUCO9I+JrewvBKn901B/oP9+TgWM=, not LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE= as Content-Digest said",
    ),
    429: problem(
      "Busy with another run or upload, or too many wrong tokens from this address; see Retry-After",
      "busy",
      "the server is busy with another run or upload",
    ),
    503: problem(
      "The server is stopping; the upload was refused or cut short and nothing was kept",
      "stopping",
      "the server is stopping, so the upload was cut short and nothing was kept; send it again once it is back",
    ),
    507: problem(
      "The server has no room for the upload",
      "insufficient-storage",
      "the server has no room for this upload (its disk is full); nothing was kept",
    ),
  },
});

/** `PUT /v1/assets/{path}`: the body is read straight from the socket, never buffered. */
export function assetRoutes(uploads: AssetUploads) {
  const router = createRouter();
  // The contract names one `{path}` parameter, but a path with raw slashes must reach the handler
  // too, so it is routed as a wildcard and the raw path (not Hono's decoded one) is parsed.
  router.openAPIRegistry.registerPath(putAsset);
  router.put(`${ASSETS_PREFIX}*`, async (c) => {
    const { incoming, outgoing } = c.env as HttpBindings;
    let accepted = false;
    try {
      const asset = await uploads.receive({
        rawPath: rawPathAfter(incoming.url ?? "", ASSETS_PREFIX),
        headers: incoming.headers,
        body: incoming,
        accept: () => {
          accepted = true;
          if (expectsContinue(incoming)) outgoing.writeContinue();
        },
      });
      return c.json(asset, 201);
    } catch (error) {
      if (!(error instanceof UploadError)) throw error;
      const headers: Record<string, string> =
        error.kind === "busy" ? { "Retry-After": BUSY_RETRY_AFTER_SECONDS } : error.kind === "stopping" ? { Connection: "close" } : {};
      const answer = problemResponse(error.kind, error.message, { headers });
      // A client told to send its body may still be sending it (a chunked folder over the limit).
      if (accepted && !incoming.complete && !incoming.destroyed) {
        return answerWhileDraining(incoming, outgoing, answer, uploads.options.refusedBodyDrain);
      }
      return answer;
    }
  });
  return router;
}

/**
 * The still-encoded path after `prefix`, from an origin-form or absolute-form request target.
 * Hono routes `/v1/%61ssets/x` here too, having decoded it; the destination is read from the
 * raw target, so the prefix must be written out there.
 */
function rawPathAfter(target: string, prefix: string): string {
  const path = (target.split("?")[0] ?? "").replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  if (!path.startsWith(prefix)) throw new UploadError("invalid-request", `write the path's ${prefix} as it is, not percent-encoded`);
  return path.slice(prefix.length);
}
