// Random and malformed requests for every operation of openapi.yaml, as fast-check arbitraries.
// A new route in the contract is fuzzed without a change here.
import fc from "fast-check";

type Schema = Record<string, any>;

export interface Operation {
  id: string;
  method: string;
  /** The path template, e.g. /v1/runs/{id}. */
  path: string;
  secured: boolean;
  parameters: { name: string; in: "path" | "query" | "header"; required: boolean; schema: Schema }[];
  /** Media type -> schema of the request body, when the operation takes one. */
  body: Record<string, Schema>;
}

/** How the request authenticates; only `valid` carries the server's token as it should. */
export type AuthKind = "valid" | "none" | "wrong" | "malformed";

/** A value filled in when the request is sent: a real task name or run id, else a generated string. */
export type Value = { known: string; pick: number } | { literal: string };

/** A generated request before the live values are filled in. */
export interface FuzzRequest {
  operation: string;
  method: string;
  pathSegments: Value[];
  query: [string, Value][];
  headers: [string, string][];
  auth: AuthKind;
  /** Last octet of the 127.0.0.x source address (only `valid` requests use 127.0.0.1). */
  source: number;
  body?: { bytes: Uint8Array; chunked: boolean };
}

/** Every operation of the contract, with parameters and request bodies resolved. */
export function operationsOf(doc: Schema): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const method of ["get", "put", "post", "delete", "patch", "head", "options"]) {
      const op = item[method];
      if (!op) continue;
      const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Schema) => resolve(doc, p));
      const content: Record<string, Schema> = resolve(doc, op.requestBody ?? {}).content ?? {};
      operations.push({
        id: op.operationId ?? `${method} ${path}`,
        method: method.toUpperCase(),
        path,
        secured: (op.security ?? doc.security ?? []).length > 0,
        parameters: parameters.map((p: Schema) => ({
          name: p.name,
          in: p.in,
          required: Boolean(p.required),
          schema: resolve(doc, p.schema ?? {}),
        })),
        body: Object.fromEntries(Object.entries(content).map(([type, media]) => [type, resolve(doc, media.schema ?? {})])),
      });
    }
  }
  return operations;
}

function resolve(doc: Schema, node: Schema): Schema {
  let current = node;
  while (current && typeof current.$ref === "string") {
    current = current.$ref
      .replace(/^#\//, "")
      .split("/")
      .reduce((at: Schema, key: string) => at?.[key.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  }
  return current ?? {};
}

/** Strings that have broken path, header and file handling somewhere before. */
const HOSTILE = [
  "",
  ".",
  "..",
  "%2e%2e",
  "%2E.",
  "..%2f..%2fetc%2fpasswd",
  "a%2Fb",
  "%2F",
  "%00",
  "a%00b",
  "%ZZ",
  "%",
  "%C3%28",
  "%FF%FE",
  "%0d%0aX-Injected:%201",
  "%20",
  "~",
  "-rf",
  "$(id)",
  ";ls",
  "`id`",
  "%7B%7D",
  "\u00ff\u00e9",
  "a".repeat(300),
  "9".repeat(40),
  "-1",
  "0",
  "1e3",
  "NaN",
  "true",
  "null",
  "[]",
  "{}",
];

/** Characters a request target may carry raw: visible ASCII (raw Latin-1 is among HOSTILE). */
const RAW_TARGET_CHAR = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));

const literal = (arb: fc.Arbitrary<string>): fc.Arbitrary<Value> => arb.map((text) => ({ literal: text }));

/** A string a client might send where a value goes: valid, hostile, encoded or raw. */
function stringValue(schema: Schema): fc.Arbitrary<string> {
  const options: fc.WeightedArbitrary<string>[] = [
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.string({ unit: RAW_TARGET_CHAR, maxLength: 40 }) },
  ];
  if (schema.pattern) options.push({ weight: 3, arbitrary: fc.stringMatching(new RegExp(schema.pattern)) });
  if (schema.enum) options.push({ weight: 3, arbitrary: fc.constantFrom(...schema.enum.map(String)) });
  if (schema.type === "integer" || schema.type === "number") {
    const min = (schema.minimum ?? -1000) - 2;
    const max = (schema.maximum ?? 1000) + 2;
    options.push({ weight: 3, arbitrary: fc.integer({ min, max }).map(String) });
  }
  if (schema.example !== undefined) options.push({ weight: 1, arbitrary: fc.constant(String(schema.example)) });
  return fc.oneof(...options);
}

/** A path parameter: a live value of that name half the time (a real task, a real run). */
function pathValue(name: string, schema: Schema): fc.Arbitrary<Value> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.nat().map((pick) => ({ known: name, pick })) },
    { weight: 1, arbitrary: literal(stringValue(schema)) },
  );
}

/** A JSON value shaped by a schema, now and then bent just past its limits or off it entirely. */
function jsonFor(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const wrong = fc.jsonValue({ maxDepth: 2 });
  if (depth > 4) return wrong;
  let shaped: fc.Arbitrary<unknown>;
  if (schema.enum) {
    shaped = fc.constantFrom(...schema.enum);
  } else if (schema.oneOf || schema.anyOf) {
    shaped = fc.oneof(...(schema.oneOf ?? schema.anyOf).map((s: Schema) => jsonFor(s, depth + 1)));
  } else {
    const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== "null") : schema.type;
    switch (type) {
      case "object": {
        const props = Object.fromEntries(
          Object.entries<Schema>(schema.properties ?? {}).map(([key, s]) => [key, jsonFor(s, depth + 1)]),
        );
        shaped = fc.tuple(
          fc.record(props, { requiredKeys: schema.required ?? [] }),
          fc.option(fc.dictionary(fc.string({ maxLength: 8 }), wrong, { maxKeys: 2 }), { freq: 5 }),
        ).map(([known, extra]) => ({ ...(extra ?? {}), ...known }));
        break;
      }
      case "array": {
        const limit = schema.maxItems ?? 8;
        shaped = fc.oneof(
          { weight: 5, arbitrary: fc.array(jsonFor(schema.items ?? {}, depth + 1), { maxLength: Math.min(limit, 8) }) },
          { weight: 1, arbitrary: fc.constant(Array.from({ length: limit + 1 }, () => "x")) },
        );
        break;
      }
      case "string": {
        const limit = schema.maxLength ?? 64;
        shaped = fc.oneof(
          { weight: 6, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
          { weight: 2, arbitrary: fc.constantFrom(...HOSTILE, "a\u0000b", "\r\n", "\u2028", "\ud800") },
          { weight: 1, arbitrary: fc.constant("y".repeat(limit + 1)) },
        );
        break;
      }
      case "integer":
        shaped = fc.integer({ min: (schema.minimum ?? -1e6) - 1, max: (schema.maximum ?? 1e6) + 1 });
        break;
      case "number":
        shaped = fc.double();
        break;
      case "boolean":
        shaped = fc.boolean();
        break;
      default:
        shaped = wrong;
    }
  }
  if (Array.isArray(schema.type) && schema.type.includes("null")) shaped = fc.option(shaped, { nil: null, freq: 4 });
  return fc.oneof({ weight: 9, arbitrary: shaped }, { weight: 1, arbitrary: wrong });
}

const CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/problem+json",
  "application/octet-stream",
  "application/x-tar",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "json",
  ";;;",
];

const ACCEPTS = ["text/event-stream", "application/json", "*/*", "text/plain", "text/event-stream, */*;q=0.1", "%%%"];

/** Over the run route's 512 KiB JSON limit. */
const OVERSIZED = new Uint8Array(600 * 1024).fill(0x61);

function bodyFor(op: Operation): fc.Arbitrary<{ type?: string; bytes: Uint8Array } | undefined> {
  const encode = (text: string) => new TextEncoder().encode(text);
  const declared = Object.entries(op.body).map(([type, schema]) =>
    /json/.test(type)
      ? jsonFor(schema).map((value) => ({ type, bytes: encode(JSON.stringify(value) ?? "null") }))
      : fc.uint8Array({ maxLength: 4096 }).map((bytes) => ({ type, bytes })),
  );
  const anyType = fc.option(fc.constantFrom(...CONTENT_TYPES, ...Object.keys(op.body)), { freq: 4, nil: undefined });
  const random = fc.oneof(
    fc.tuple(anyType, fc.json({ maxDepth: 3 })).map(([type, text]) => ({ type, bytes: encode(text) })),
    fc.tuple(anyType, fc.json({ maxDepth: 3 }), fc.nat()).map(([type, text, cut]) => ({
      type,
      bytes: encode(text.slice(0, cut % (text.length + 1))),
    })),
    fc.tuple(anyType, fc.uint8Array({ maxLength: 2048 })).map(([type, bytes]) => ({ type, bytes })),
    fc.tuple(anyType).map(([type]) => ({ type, bytes: new Uint8Array() })),
  );
  const oversized = fc.constantFrom(...Object.keys(op.body), "application/json").map((type) => ({ type, bytes: OVERSIZED }));
  return fc.oneof(
    { weight: declared.length > 0 ? 3 : 6, arbitrary: fc.constant(undefined) },
    ...declared.map((arbitrary) => ({ weight: 6, arbitrary })),
    { weight: 3, arbitrary: random },
    { weight: 1, arbitrary: oversized },
  );
}

const HEADER_NAME = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
/** Header values node's client will send: visible ASCII, spaces, tabs and Latin-1. */
const HEADER_VALUE = fc.string({
  unit: fc.mapToConstant(
    { num: 0x7e - 0x20 + 1, build: (v) => String.fromCharCode(0x20 + v) },
    { num: 0xff - 0xa0 + 1, build: (v) => String.fromCharCode(0xa0 + v) },
  ),
  maxLength: 60,
});

const AUTH: fc.Arbitrary<AuthKind> = fc.constantFrom("valid", "valid", "valid", "valid", "none", "wrong", "malformed");

/** One request for `op`: its own method and shape mostly, anything else now and then. */
export function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const segments = op.path.split("/").slice(1);
  const pathParams = new Map(op.parameters.filter((p) => p.in === "path").map((p) => [p.name, p.schema]));
  const path = fc.tuple(
    ...segments.map((segment) => {
      const name = /^\{(.+)\}$/.exec(segment)?.[1];
      return name ? pathValue(name, pathParams.get(name) ?? {}) : fc.constant<Value>({ literal: segment });
    }),
  );
  const mangledPath = fc.oneof(
    { weight: 8, arbitrary: path },
    { weight: 1, arbitrary: fc.tuple(path, literal(stringValue({}))).map(([p, extra]) => [...p, extra]) },
    { weight: 1, arbitrary: path.map((p) => p.slice(0, -1)) },
  );
  const query = fc.tuple(
    fc.tuple(
      ...op.parameters
        .filter((p) => p.in === "query")
        .map((p) => fc.option(literal(stringValue(p.schema)).map((v) => [p.name, v] as [string, Value]), { freq: 3, nil: undefined })),
    ),
    fc.array(fc.tuple(fc.string({ unit: RAW_TARGET_CHAR, maxLength: 10 }), literal(stringValue({}))), { maxLength: 2 }),
  );
  const declaredHeaders = op.parameters
    .filter((p) => p.in === "header")
    .map((p) => fc.option(stringValue(p.schema).map((v) => [p.name, decodeSafe(v)] as [string, string]), { nil: undefined }));
  const headers = fc.tuple(
    fc.option(fc.constantFrom(...ACCEPTS), { nil: undefined }),
    fc.tuple(...declaredHeaders),
    fc.array(fc.tuple(HEADER_NAME, HEADER_VALUE), { maxLength: 3 }),
  );
  const method = fc.oneof(
    { weight: 12, arbitrary: fc.constant(op.method) },
    { weight: 2, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") },
    { weight: 1, arbitrary: fc.constantFrom("TRACE", "PROPFIND", "SEARCH", "FOO") },
  );
  return fc
    .record({
      method,
      pathSegments: mangledPath,
      query,
      headers,
      auth: AUTH,
      source: fc.integer({ min: 2, max: 250 }),
      body: bodyFor(op),
      chunked: fc.boolean(),
    })
    .map(({ method, pathSegments, query: [declaredQuery, extraQuery], headers: [accept, declared, extra], auth, source, body, chunked }) => {
      const allHeaders: [string, string][] = [];
      if (accept) allHeaders.push(["Accept", accept]);
      for (const header of declared) if (header) allHeaders.push(header);
      allHeaders.push(...extra.filter(([name]) => !/^(content-length|transfer-encoding|authorization|host|connection|expect|upgrade)$/i.test(name)));
      if (body?.type) allHeaders.push(["Content-Type", body.type]);
      return {
        operation: op.id,
        method,
        pathSegments,
        query: [...declaredQuery.filter((q) => q !== undefined), ...extraQuery],
        headers: allHeaders,
        auth,
        source: auth === "valid" ? 1 : source,
        body: body ? { bytes: body.bytes, chunked } : undefined,
      } satisfies FuzzRequest;
    });
}

/** Header values cannot carry what a path can: decode, and keep what node will send. */
function decodeSafe(value: string): string {
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    // Keep it as it is.
  }
  return [...decoded].filter((c) => c === "\t" || (c >= " " && c <= "~") || (c >= "\u00a0" && c <= "\u00ff")).join("");
}
