import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { problemResponse } from "./problem.js";

const CHALLENGE = 'Bearer realm="sdci"';

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Requires `Authorization: Bearer <token>`; anything else gets 401 with a challenge. */
export function bearerAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match?.[1] || !sameToken(match[1], token)) {
      const detail = header === "" ? "send the token as 'Authorization: Bearer <token>'" : "the token was not accepted";
      const challenge = header === "" ? CHALLENGE : `${CHALLENGE}, error="invalid_token"`;
      return problemResponse("unauthorized", detail, { headers: { "WWW-Authenticate": challenge } });
    }
    await next();
  };
}
