import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { childEnvironment } from "../src/runner/child-environment.js";

const SECRET = "s3cret-token-value-0123456789";
const RUN = { runId: "20261203T160755123Z-a1b2c3", task: "deploy", uploadsDir: "/srv/uploads" };

describe("childEnvironment", () => {
  test("drops the token variables by name, whatever they hold", () => {
    const env = childEnvironment({ SDCI_SERVER_TOKEN: "other", SDCI_TOKEN: "another", PATH: "/bin" }, [SECRET], RUN);
    assert.equal(env.SDCI_SERVER_TOKEN, undefined);
    assert.equal(env.SDCI_TOKEN, undefined);
    assert.equal(env.PATH, "/bin");
  });

  test("drops any variable that carries the secret, even inside a longer value", () => {
    const env = childEnvironment(
      { DEPLOY_KEY: SECRET, AUTH_HEADER: `Authorization: Bearer ${SECRET}`, HOME: "/home/ci" },
      [SECRET],
      RUN,
    );
    assert.equal(env.DEPLOY_KEY, undefined);
    assert.equal(env.AUTH_HEADER, undefined);
    assert.equal(env.HOME, "/home/ci");
    assert.ok(!Object.values(env).some((value) => value.includes(SECRET)));
  });

  test("an empty secret removes nothing else", () => {
    const env = childEnvironment({ PATH: "/bin", LANG: "C.UTF-8" }, [""], RUN);
    assert.equal(env.PATH, "/bin");
    assert.equal(env.LANG, "C.UTF-8");
  });

  test("adds the run's variables, overriding any the server had, and unbuffers Python", () => {
    const env = childEnvironment({ SDCI_TASK: "spoofed", PYTHONUNBUFFERED: "0" }, [SECRET], RUN);
    assert.equal(env.SDCI_RUN_ID, RUN.runId);
    assert.equal(env.SDCI_TASK, "deploy");
    assert.equal(env.SDCI_UPLOADS_DIR, "/srv/uploads");
    assert.equal(env.PYTHONUNBUFFERED, "1");
  });

  test("leaves the server's own environment untouched", () => {
    const serverEnv = { SDCI_SERVER_TOKEN: SECRET, PATH: "/bin" };
    childEnvironment(serverEnv, [SECRET], RUN);
    assert.deepEqual(serverEnv, { SDCI_SERVER_TOKEN: SECRET, PATH: "/bin" });
  });
});
