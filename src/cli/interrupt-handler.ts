import { setTimeout as sleep } from "node:timers/promises";

/** What one cancel request got: the server took it, the run had ended already, or a refusal that no retry mends. */
export type CancelAnswer = "accepted" | "ended" | "refused";

/** What became of a cancel: an answer, or none within the retry window. */
type CancelOutcome = CancelAnswer | "unreached";

/** Sends one cancel request; throws when it did not get through (no connection, a 5xx). */
export type SendCancel = (runId: string) => Promise<CancelAnswer>;

const RETRY_MS = [250, 500, 1000, 2000];

/** As long as the CLI keeps reconnecting to follow a run: a server restart, a network hiccup. */
const DEFAULT_RETRY_WINDOW_MS = 60_000;

/** How long a second Ctrl-C waits for the cancel to reach the server before it leaves anyway. */
const DEFAULT_LEAVE_WAIT_MS = 10_000;

/**
 * Ctrl-C while a run is followed: the first cancels the run on the server and keeps showing
 * its output until the `exit` event; the second stops waiting (exit 130) as soon as the server
 * has the cancel; a third leaves at once. A Ctrl-C that comes before the run's id is known
 * cancels the run as soon as the id arrives, and a cancel that does not get through (the link
 * is down) is sent again until it does. What the CLI says on leaving is what it knows: that
 * the run is being cancelled, or that it may go on.
 */
export class InterruptHandler {
  #runId: string | undefined;
  #count = 0;
  #disposed = false;
  /** Settles with what became of the cancel; made on the first Ctrl-C once the id is known. */
  #cancelled: Promise<CancelOutcome> | undefined;
  #outcome: CancelOutcome | undefined;
  readonly #idKnown: Promise<string>;
  #resolveId!: (runId: string) => void;
  readonly #stderr: NodeJS.WritableStream;
  readonly #serverUrl: string;
  readonly #send: SendCancel;
  readonly #retryWindowMs: number;
  readonly #leaveWaitMs: number;
  readonly #exit: (code: number) => void;
  readonly #signals: Pick<NodeJS.Process, "on" | "off">;
  readonly #onSigint = () => this.#interrupted();

  constructor(
    stderr: NodeJS.WritableStream,
    serverUrl: string,
    send: SendCancel,
    {
      retryWindowMs = DEFAULT_RETRY_WINDOW_MS,
      leaveWaitMs = DEFAULT_LEAVE_WAIT_MS,
      exit = (code: number): void => process.exit(code),
      signals = process as Pick<NodeJS.Process, "on" | "off">,
    } = {},
  ) {
    this.#stderr = stderr;
    this.#serverUrl = serverUrl;
    this.#send = send;
    this.#retryWindowMs = retryWindowMs;
    this.#leaveWaitMs = leaveWaitMs;
    this.#exit = exit;
    this.#idKnown = new Promise((resolve) => (this.#resolveId = resolve));
    this.#signals = signals;
    signals.on("SIGINT", this.#onSigint);
  }

  runStarted(runId: string): void {
    this.#runId = runId;
    this.#resolveId(runId);
    if (this.#count > 0) this.#startCancel(runId);
  }

  dispose(): void {
    this.#disposed = true;
    this.#signals.off("SIGINT", this.#onSigint);
  }

  #interrupted(): void {
    this.#count += 1;
    if (this.#count === 1) {
      this.#stderr.write("sdci-cli: cancelling the run on the server; Ctrl-C again to stop waiting\n");
      if (this.#runId) this.#startCancel(this.#runId);
      return;
    }
    if (this.#count === 2) {
      void this.#leaveOnceAnswered();
      return;
    }
    this.#leave(this.#outcome ?? "unreached");
  }

  #startCancel(runId: string): void {
    this.#cancelled ??= this.#sendUntilAnswered(runId).then((outcome) => (this.#outcome = outcome));
  }

  async #sendUntilAnswered(runId: string): Promise<CancelOutcome> {
    const deadline = Date.now() + this.#retryWindowMs;
    for (let attempt = 0; !this.#disposed; attempt++) {
      try {
        const answer = await this.#send(runId);
        if (answer === "refused" && !this.#disposed) {
          this.#stderr.write(`sdci-cli: the server refused to cancel run ${runId}; it goes on\n`);
        }
        return answer;
      } catch {
        if (Date.now() > deadline) return "unreached";
        // Unreferenced: a command that has finished does not wait for the next try.
        await sleep(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)], undefined, { ref: false });
      }
    }
    return "unreached";
  }

  /** The second Ctrl-C: leaves once the server has answered the cancel, or after a bounded wait. */
  async #leaveOnceAnswered(): Promise<void> {
    if (this.#outcome) return this.#leave(this.#outcome);
    this.#stderr.write("sdci-cli: making sure the server has the cancel; Ctrl-C again to leave now\n");
    const answered = this.#idKnown.then(() => this.#cancelled ?? ("unreached" as const));
    this.#leave(await Promise.race([answered, sleep(this.#leaveWaitMs, "unreached" as const, { ref: false })]));
  }

  #leave(outcome: CancelOutcome): void {
    // The command has ended on its own meanwhile: its exit code and last words stand.
    if (this.#disposed) return;
    const which = this.#runId ? `run ${this.#runId}` : "the run";
    const told: Record<CancelOutcome, string> = {
      accepted: `${which} is being cancelled on the server`,
      ended: `${which} had already ended on the server, so there was nothing to cancel`,
      refused: `the server refused to cancel ${which}, so it goes on`,
      unreached: `the cancel has not reached the server, so ${which} may go on ${
        this.#runId ? `(cancel it with: sdci-cli cancel ${this.#serverUrl} ${this.#runId})` : `(see: sdci-cli runs ${this.#serverUrl})`
      }`,
    };
    this.#stderr.write(`sdci-cli: stopped waiting; ${told[outcome]}\n`);
    this.#exit(130);
  }
}
