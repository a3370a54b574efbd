import type { IncomingMessage } from "node:http";
import { finished } from "node:stream";
import { BodyMeter } from "./body-meter.js";
import { parseContentDigest } from "./content-digest.js";
import { UploadError } from "./upload-error.js";

/** What the client said about the body it sends. */
export interface DeclaredBody {
  /** Content-Length, when the body is not chunked. */
  length?: number;
  /** The sha-256 of a `Content-Digest` header; a trailer is read once the body has ended. */
  sha256?: Buffer;
}

/**
 * Feeds the request body into a meter. `pipe()`, unlike `pipeline()`, leaves the request open
 * when the meter fails, so the server can still answer 413 (or 503 when `stop` is aborted: the
 * meter fails with the signal's reason); a client that goes away fails it.
 */
export function meterBody(body: IncomingMessage, maxBytes: number, stop?: AbortSignal): BodyMeter {
  const meter = new BodyMeter(maxBytes);
  body.pipe(meter);
  finished(body, (error) => {
    if (error) meter.destroy(new UploadError("invalid-request", "the client closed the connection before the body was complete"));
  });
  if (stop) {
    const cut = () => meter.destroy(stop.reason);
    if (stop.aborted) cut();
    stop.addEventListener("abort", cut, { once: true });
    // One signal serves every upload of the server's life: each takes its listener with it.
    finished(meter, () => stop.removeEventListener("abort", cut));
  }
  return meter;
}

/**
 * Checks a fully received body against what the client declared: its length, and its
 * Content-Digest from the header and from the trailer (a sender that hashes while it
 * streams, like `sdci-cli` for a folder, can only send it there).
 */
export function verifyBody(body: IncomingMessage, meter: BodyMeter, declared: DeclaredBody): Buffer {
  if (declared.length !== undefined && meter.bytes !== declared.length) {
    throw new UploadError("invalid-request", `received ${meter.bytes} bytes but Content-Length said ${declared.length}`);
  }
  const actual = meter.digest();
  // A header and a trailer are two claims about the body: each must hold.
  for (const expected of [declared.sha256, parseContentDigest(body.trailers["content-digest"])]) {
    if (expected && !expected.equals(actual)) {
      throw new UploadError(
        "digest-mismatch",
        `the body's sha-256 is ${actual.toString("base64")}, not ${expected.toString("base64")} as Content-Digest said`,
      );
    }
  }
  return actual;
}
