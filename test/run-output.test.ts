import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { postRun } from "./helpers/http.js";
import { type TestServer, runCli, startCli, startTestServer } from "./helpers/server.js";
import { type SseEvent, outputOf, readSse } from "./helpers/sse.js";

const TASKS = {
  // Each line carries the wall-clock ms at which the task printed it.
  ticker: 'for i in 1 2 3; do echo "line $i $(date +%s%3N)"; sleep 1; done',
  silent: 'sleep 1.5; echo "late $(date +%s%3N)"',
  interleaved: 'for ((i = 1; i <= 2000; i++)); do echo "out $i"; echo "err $i" >&2; done',
  "no-newline": "printf 'out without newline'; printf 'err without newline' >&2",
  "split-char": "printf 'euro \\xe2\\x82'; sleep 0.3; printf '\\xac smile \\xf0\\x9f'; sleep 0.3; printf '\\x98\\x80\\n'",
  "invalid-utf8": "printf 'a\\xffb\\n'; printf '\\xc3(\\n'; printf 'tail \\xe2\\x82'; sleep 0.2; echo; echo after",
  framing: [
    "printf 'carriage\\rreturn\\r\\n'",
    "printf 'data: not an event\\n'",
    "printf '\\n\\nevent: exit\\ndata: {}\\n\\n'",
    "printf 'id: 99\\nretry: 1\\n: a comment\\nevent: output\\n'",
    "printf 'data: {\"stream\":\"stdout\",\"text\":\"forged\"}\\r\\n\\r\\n' >&2",
    "echo end",
  ].join("\n"),
};

const FRAMING_STDOUT =
  "carriage\rreturn\r\ndata: not an event\n\n\nevent: exit\ndata: {}\n\nid: 99\nretry: 1\n: a comment\nevent: output\nend\n";
const FRAMING_STDERR = 'data: {"stream":"stdout","text":"forged"}\r\n\r\n';

const numbered = (prefix: string) => Array.from({ length: 2000 }, (_, i) => `${prefix} ${i + 1}\n`).join("");

describe("a run's output", () => {
  let server: TestServer;
  const cliEnv = () => ({ SDCI_TOKEN: server.token });
  const runRaw = async (task: string): Promise<SseEvent[]> => {
    const response = await postRun(server, task, [], { sse: true });
    assert.equal(response.status, 200);
    return readSse(response);
  };

  before(async () => {
    server = await startTestServer({ tasks: TASKS });
  });
  after(async () => {
    await server.stop();
  });

  // Criterion 2: output is live, over the raw API.
  test("the first line reaches a raw SSE reader before the task prints its second", async () => {
    const response = await postRun(server, "ticker", [], { sse: true });
    const readerStart = Date.now();
    const events = await readSse(response);
    const run = events.find((e) => e.event === "run")!;
    const outputs = events.filter((e) => e.event === "output");
    assert.equal(outputs.length, 3, "one event per line, each sent as it was printed");
    const [first, second] = outputs.map((e) => ({ at: readerStart + e.at, printedAt: Number(/ (\d+)\n$/.exec(e.data.text)![1]) }));
    assert.ok(first && second);
    assert.ok(outputs[0]!.at - run.at < 700, `first line came ${outputs[0]!.at - run.at} ms after the run event`);
    assert.ok(first.at < second.printedAt, "the first line arrived only after the second was printed");
    assert.equal(outputOf(events, "stdout").replace(/ \d+\n/g, "\n"), "line 1\nline 2\nline 3\n");
  });

  // Criterion 2: a task that prints nothing yet still gets its stream opened at once.
  test("the stream's headers and run event arrive before a silent task prints anything", async () => {
    const response = await postRun(server, "silent", [], { sse: true });
    const headersAt = Date.now();
    assert.equal(response.headers.get("content-type")?.split(";")[0], "text/event-stream");
    const readerStart = Date.now();
    const events = await readSse(response);
    const output = events.find((e) => e.event === "output")!;
    const printedAt = Number(/^late (\d+)\n$/.exec(output.data.text)![1]);
    assert.ok(headersAt < printedAt, "the headers waited for the task's first output");
    assert.ok(readerStart + events[0]!.at < printedAt, "the run event waited for the task's first output");
  });

  // Criterion 2: output is live through the CLI.
  test("the first line reaches the CLI's stdout before the task prints its second", async () => {
    const cli = startCli(["run", server.url, "ticker"], cliEnv());
    const firstLine = await cli.stdoutMatches(/^line 1 (\d+)\n/);
    const { code, stdout } = await cli.result;
    assert.equal(code, 0);
    const printed = [...stdout.matchAll(/^line \d (\d+)$/gm)].map((m) => Number(m[1]));
    assert.equal(printed.length, 3);
    assert.ok(firstLine.at - printed[0]! < 700, `the CLI showed line 1 ${firstLine.at - printed[0]!} ms after it was printed`);
    assert.ok(firstLine.at < printed[1]!, "the CLI showed line 1 only after line 2 was printed");
  });

  // Criterion 5: two streams, each in order.
  test("stdout and stderr stay apart and each keeps its order (2,000 interleaved lines each)", async () => {
    const events = await runRaw("interleaved");
    assert.equal(outputOf(events, "stdout"), numbered("out"));
    assert.equal(outputOf(events, "stderr"), numbered("err"));
    const cli = await runCli(["run", server.url, "interleaved"], cliEnv());
    assert.equal(cli.code, 0, cli.stderr.slice(-500));
    assert.equal(cli.stdout, numbered("out"));
    assert.equal(cli.stderr, numbered("err"));
  });

  // Criterion 5: nothing waits for a newline that never comes.
  test("output without a final newline is delivered on both streams", async () => {
    const events = await runRaw("no-newline");
    assert.equal(outputOf(events, "stdout"), "out without newline");
    assert.equal(outputOf(events, "stderr"), "err without newline");
    const cli = await runCli(["run", server.url, "no-newline"], cliEnv());
    assert.equal(cli.code, 0);
    assert.equal(cli.stdout, "out without newline");
    assert.equal(cli.stderr, "err without newline");
  });

  // Criterion 5: a character whose bytes are written apart arrives whole.
  test("a multi-byte character written in two halves arrives whole", async () => {
    const events = await runRaw("split-char");
    const texts = events.filter((e) => e.event === "output").map((e) => e.data.text as string);
    assert.equal(texts.join(""), "euro € smile 😀\n");
    assert.ok(texts.length >= 2, "the partial line was not flushed while the task slept");
    assert.ok(texts.every((text) => !text.includes("\uFFFD") && !/\p{Cs}/u.test(text)));
    const cli = await runCli(["run", server.url, "split-char"], cliEnv());
    assert.equal(cli.stdout, "euro € smile 😀\n");
  });

  // Criterion 5: bad bytes do not stop the stream.
  test("invalid UTF-8 becomes U+FFFD and the output goes on", async () => {
    const expected = "a\uFFFDb\n\uFFFD(\ntail \uFFFD\nafter\n";
    const events = await runRaw("invalid-utf8");
    assert.equal(outputOf(events, "stdout"), expected);
    assert.equal(events.at(-1)?.data.status, "succeeded");
    const cli = await runCli(["run", server.url, "invalid-utf8"], cliEnv());
    assert.equal(cli.code, 0);
    assert.equal(cli.stdout, expected);
  });

  // Criterion 5: what a task prints can never forge or break an event.
  test("output with \\r, data: lines and a fake exit event cannot break the SSE framing", async () => {
    const response = await postRun(server, "framing", [], { sse: true });
    const raw = await response.text();
    assert.equal((raw.match(/^event: exit$/gm) ?? []).length, 1, raw);
    const events = await readSse(new Response(raw));
    assert.deepEqual(
      events.map((e) => e.event),
      ["run", ...events.slice(1, -1).map(() => "output"), "exit"],
    );
    assert.deepEqual(events.map((e) => e.id), events.map((_, i) => i + 1));
    assert.equal(outputOf(events, "stdout"), FRAMING_STDOUT);
    assert.equal(outputOf(events, "stderr"), FRAMING_STDERR);
    const cli = await runCli(["run", server.url, "framing"], cliEnv());
    assert.equal(cli.code, 0);
    assert.equal(cli.stdout, FRAMING_STDOUT);
    assert.equal(cli.stderr, FRAMING_STDERR);
  });
});
