import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../router.js";
import { NARROW_RESPONSES } from "../schemas.js";

const contractYaml = createRoute({
  method: "get",
  path: "/openapi.yaml",
  operationId: "getContractYaml",
  tags: ["contract"],
  summary: "This API's OpenAPI document, as YAML",
  description: "The contract the server implements; no token needed.",
  security: [],
  responses: {
    200: { description: "OpenAPI 3.1 document", content: { "application/yaml": { schema: z.string() } } },
    ...NARROW_RESPONSES.malformedOnly,
  },
});

const contractJson = createRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "getContractJson",
  tags: ["contract"],
  summary: "This API's OpenAPI document, as JSON",
  description: "The same document as /openapi.yaml, for tools that read JSON; no token needed.",
  security: [],
  responses: {
    200: {
      description: "OpenAPI 3.1 document",
      content: {
        "application/json": {
          schema: z.record(z.string(), z.unknown()),
          example: { openapi: "3.1.0", info: { title: "SDCI", version: "0.1.0" }, paths: {} },
        },
      },
    },
    ...NARROW_RESPONSES.malformedOnly,
  },
});

/** Serves openapi.yaml as written, and the same document as JSON. */
export function contractRoutes(yamlText: string) {
  // Parsed on first use: parsing at start cost the server's resident memory ~10 MB that a
  // server nobody asks for JSON never needed (the parser's garbage stays mapped).
  let json: string | undefined;
  return createRouter()
    .openapi(contractYaml, (c) => c.body(yamlText, 200, { "Content-Type": "application/yaml; charset=utf-8" }))
    .openapi(contractJson, async (c) => {
      json ??= JSON.stringify((await import("yaml")).parse(yamlText));
      return c.body(json, 200, { "Content-Type": "application/json; charset=utf-8" }) as never;
    });
}
