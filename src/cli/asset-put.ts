import http, { type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import type { paths } from "../../generated/schema.js";
import { ServerSilence } from "./cli-error.js";
import { delayHangUpWriteErrors } from "./hang-up-grace.js";
import { formatSeconds, serverTimeouts } from "./server-timeouts.js";
import { trustedCertificates } from "./tls.js";

type UploadOperation = paths["/v1/assets/{path}"]["put"];
/** What the server answers with 201, as the contract types it. */
export type Asset = UploadOperation["responses"][201]["content"]["application/json"];

/** If a proxy swallows `Expect: 100-continue`, send the body anyway after this long (as curl does). */
const CONTINUE_FALLBACK_MS = 1000;
/** An answer's body is a small JSON document; more than this is not one of ours. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** How long an answer the server sent before it hung up on the body still has to be read. */
const HANG_UP_GRACE_MS = 1000;

export interface AssetPut {
  url: URL;
  headers: OutgoingHttpHeaders;
  /** Opens the body when the server has said to send it, so nothing is read for a refused upload. */
  body: () => Readable;
  /** Trailer fields, asked for once the whole body has been sent (a digest known only then). */
  trailers?: () => Record<string, string>;
}

export interface AssetAnswer {
  status: number;
  headers: IncomingMessage["headers"];
  /** The parsed JSON body (an Asset on 201, a Problem otherwise), or undefined. */
  body: unknown;
}

/**
 * Sends one upload over node:http rather than the generated openapi-fetch client, because
 * fetch cannot do what a large upload needs: stream a body under a declared Content-Length,
 * wait for `100 Continue` so a refused upload sends no byte, and send a trailer. The types
 * still come from generated/. Resolves with the server's answer; rejects with a ServerSilence
 * when the server stops taking the body, or sends no answer after it.
 */
export function putAsset(request: AssetPut): Promise<AssetAnswer> {
  const { url } = request;
  const { idleMs, uploadAnswerMs } = serverTimeouts();
  return new Promise((resolve, reject) => {
    const client = url.protocol === "https:" ? https : http;
    const outgoing = client.request(url, {
      method: "PUT",
      headers: { ...request.headers, Expect: "100-continue" },
      agent: false,
      ca: trustedCertificates(),
    });
    outgoing.on("socket", (socket) => delayHangUpWriteErrors(socket, HANG_UP_GRACE_MS));
    let body: Readable | undefined;
    let answered = false;
    // The socket's own inactivity timer: neither a byte taken nor a byte answered for so long.
    let silence = `stopped taking the upload (nothing moved for ${formatSeconds(idleMs)})`;
    outgoing.setTimeout(idleMs, () => outgoing.destroy(new ServerSilence(silence)));
    outgoing.once("finish", () => {
      if (answered) return;
      silence = `sent no answer within ${formatSeconds(uploadAnswerMs)} after the upload's last byte`;
      outgoing.setTimeout(uploadAnswerMs);
    });
    const send = () => {
      clearTimeout(fallback);
      if (body || answered) return;
      const opened = request.body();
      body = opened;
      opened.once("error", (error) => {
        outgoing.destroy();
        reject(error);
      });
      opened.pipe(outgoing, { end: false });
      opened.once("end", () => {
        if (request.trailers) outgoing.addTrailers(request.trailers());
        outgoing.end();
      });
    };
    const fallback = setTimeout(send, CONTINUE_FALLBACK_MS);
    outgoing.on("continue", send);
    outgoing.on("error", (error) => {
      clearTimeout(fallback);
      body?.destroy();
      // A server that refuses a body while it arrives may answer and then hang up on the rest:
      // the answer, already arrived, is what the upload ends with.
      if (answered) return;
      // Shaped like a fetch failure (the network error as its cause), which the CLI knows how to word.
      reject(new Error(error.message, { cause: error }));
    });
    outgoing.on("response", (answer) => {
      // An early answer (409, 413, 429...) ends the upload: stop reading the local data.
      answered = true;
      clearTimeout(fallback);
      if (body) {
        body.unpipe(outgoing);
        if (!body.readableEnded) body.destroy();
      }
      void readAnswer(answer).then((parsed) => {
        resolve({ status: answer.statusCode ?? 0, headers: answer.headers, body: parsed });
        outgoing.destroy();
      });
    });
    // With Expect, the headers go out alone so the server can answer before the body.
    outgoing.flushHeaders();
  });
}

/** The answer's JSON body, or undefined when it is not JSON (or the connection cut it short). */
async function readAnswer(answer: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of answer as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > MAX_ANSWER_BYTES) break;
      chunks.push(chunk);
    }
  } catch {
    // A reset after the answer's status: the status still counts, with what came of the body.
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}
