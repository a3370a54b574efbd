// Issue 7: the contract is complete enough for people and generators, and valid for tools.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { parse } from "yaml";
import { repoRoot } from "./helpers/server.js";

const contractPath = join(repoRoot, "openapi.yaml");
type Doc = { paths: Record<string, Record<string, any>> };

/** Every way an operation falls short of what a reader or a generator needs. */
function contractProblems(doc: Doc): string[] {
  const problems: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      for (const field of ["operationId", "summary", "description"]) if (!op[field]) problems.push(`${where}: no ${field}`);
      if (!op.tags?.length) problems.push(`${where}: no tag`);
      const responses: Record<string, any> = op.responses ?? {};
      if (!Object.keys(responses).some((s) => s.startsWith("4"))) problems.push(`${where}: no 4xx response`);
      for (const [status, response] of Object.entries(responses)) {
        const content: Record<string, any> = response.content ?? {};
        if (/^[45]/.test(status)) {
          const problem = content["application/problem+json"];
          if (problem?.schema?.$ref !== "#/components/schemas/Problem") problems.push(`${where} ${status}: no problem+json error schema`);
          else if (!problem.example) problems.push(`${where} ${status}: no example`);
        }
        if (content["application/json"] && !content["application/json"].example) problems.push(`${where} ${status}: no response example`);
        if (content["text/event-stream"] && content["text/event-stream"].schema?.contentSchema?.$ref !== "#/components/schemas/RunEvent") {
          problems.push(`${where} ${status}: SSE without its event schema`);
        }
      }
      const body = op.requestBody?.content?.["application/json"];
      if (body && !body.example) problems.push(`${where}: no request example`);
      if (path.startsWith("/v1/")) {
        if (JSON.stringify(op.security) !== JSON.stringify([{ bearerAuth: [] }])) problems.push(`${where}: not under bearer auth`);
        if (!responses["401"]) problems.push(`${where}: no 401`);
      } else if (JSON.stringify(op.security) !== "[]") {
        problems.push(`${where}: public route without security: []`);
      }
    }
  }
  return problems;
}

const contract = () => parse(readFileSync(contractPath, "utf8")) as Doc;

test("every operation has an operationId, summary, description, tag, examples and problem+json errors", () => {
  assert.deepEqual(contractProblems(contract()), []);
});

test("the completeness check fails on an operation without an operationId or an error schema", () => {
  const noId = contract();
  delete noId.paths["/v1/tasks"]!.get.operationId;
  assert.deepEqual(contractProblems(noId), ["GET /v1/tasks: no operationId"]);
  const noErrorSchema = contract();
  noErrorSchema.paths["/v1/status"]!.get.responses["401"].content = { "application/json": { schema: {}, example: {} } };
  assert.deepEqual(contractProblems(noErrorSchema), ["GET /v1/status 401: no problem+json error schema"]);
});

test("openapi.yaml is valid under swagger-parser", async () => {
  const api = await SwaggerParser.validate(contractPath);
  assert.equal((api as { openapi: string }).openapi, "3.1.0");
});
