/**
 * Ctrl-C while a run is followed: the first cancels the run on the server and keeps showing
 * its output until the `exit` event; the second stops waiting at once (exit 130). A Ctrl-C
 * that comes before the run's id is known cancels the run as soon as the id arrives.
 */
export class InterruptHandler {
  #runId: string | undefined;
  #count = 0;
  readonly #stderr: NodeJS.WritableStream;
  readonly #cancel: (runId: string) => Promise<void>;
  readonly #onSigint = () => this.#interrupted();

  constructor(stderr: NodeJS.WritableStream, cancel: (runId: string) => Promise<void>) {
    this.#stderr = stderr;
    this.#cancel = cancel;
    process.on("SIGINT", this.#onSigint);
  }

  runStarted(runId: string): void {
    this.#runId = runId;
    if (this.#count > 0) void this.#cancel(runId);
  }

  dispose(): void {
    process.off("SIGINT", this.#onSigint);
  }

  #interrupted(): void {
    this.#count += 1;
    if (this.#count === 1) {
      this.#stderr.write("sdci-cli: cancelling the run on the server; Ctrl-C again to stop waiting\n");
      if (this.#runId) void this.#cancel(this.#runId);
      return;
    }
    const which = this.#runId ? `run ${this.#runId}` : "the run";
    this.#stderr.write(`sdci-cli: stopped waiting; ${which} is being cancelled on the server\n`);
    process.exit(130);
  }
}
