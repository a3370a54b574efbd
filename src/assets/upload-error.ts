import type { ProblemKind } from "../api/problem.js";

/** An upload refused for a reason the client can act on: the route answers it as problem+json. */
export class UploadError extends Error {
  constructor(
    readonly kind: ProblemKind,
    message: string,
  ) {
    super(message);
  }
}
