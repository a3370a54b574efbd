import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { parseAssetPath, parseEntryName } from "../src/assets/asset-path.js";
import { parseContentDigest } from "../src/assets/content-digest.js";
import { UploadError } from "../src/assets/upload-error.js";
import { parseByteSize } from "../src/server/byte-size.js";

const refused = (fn: () => unknown) => assert.throws(fn, (error: unknown) => error instanceof UploadError && error.kind === "invalid-request");

test("a destination is decoded once and split on '/'", () => {
  assert.deepEqual(parseAssetPath("releases/v1.2.3/app.tar.gz"), ["releases", "v1.2.3", "app.tar.gz"]);
  assert.deepEqual(parseAssetPath("releases%2Fv1%2Fapp"), ["releases", "v1", "app"]);
  assert.deepEqual(parseAssetPath("_build+1@x=y,z~w"), ["_build+1@x=y,z~w"]);
  refused(() => parseAssetPath("..%252fx"));
  refused(() => parseAssetPath(""));
  refused(() => parseAssetPath(Array(33).fill("a").join("/")));
});

test("archive entry names keep any printable name but never leave the folder", () => {
  assert.deepEqual(parseEntryName("./index.html"), ["index.html"]);
  assert.deepEqual(parseEntryName("./"), []);
  assert.deepEqual(parseEntryName("assets/"), ["assets"]);
  assert.deepEqual(parseEntryName("café/a b.txt"), ["café", "a b.txt"]);
  assert.deepEqual(parseEntryName(".well-known/x"), [".well-known", "x"]);
  for (const name of ["../evil", "a/../../evil", "/abs", "a//b", "a\\..\\b", "a\u0001b", ".sdci-upload-x/y", `${"a/".repeat(65)}f`, "é".repeat(128)]) {
    refused(() => parseEntryName(name));
  }
});

test("Content-Digest is read as an RFC 9530 dictionary", () => {
  const digest = createHash("sha256").update("x").digest();
  assert.deepEqual(parseContentDigest(`sha-256=:${digest.toString("base64")}:`), digest);
  assert.deepEqual(parseContentDigest(`sha-512=:AAAA:, sha-256=:${digest.toString("base64")}:`), digest);
  assert.equal(parseContentDigest("sha-512=:AAAA:"), undefined);
  assert.equal(parseContentDigest(undefined), undefined);
  refused(() => parseContentDigest("sha-256=abc"));
  refused(() => parseContentDigest("sha-256=:AAAA:"));
});

test("sizes are read with binary multiples", () => {
  assert.equal(parseByteSize("1048576"), 1048576);
  assert.equal(parseByteSize("2G"), 2 * 1024 ** 3);
  assert.equal(parseByteSize("500MiB"), 500 * 1024 ** 2);
  assert.equal(parseByteSize("1.5k"), 1536);
  assert.equal(parseByteSize("lots"), undefined);
  assert.equal(parseByteSize("-1"), undefined);
});
