/** What holds the server: one run or one upload at a time. */
export interface BusyHolder {
  kind: "run" | "upload";
  id: string;
}

/** Thrown by `tryAcquire` once the server is stopping: nothing new may start then. */
export class StoppingError extends Error {
  constructor() {
    super("the server is stopping; ask again once it has started again");
  }
}

/**
 * The one global lock. Node runs handlers on one thread, so a check-and-set with no await
 * between is atomic: two requests arriving together can never both get it.
 */
export class OperationLock {
  #holder: BusyHolder | null = null;
  #closed = false;

  get holder(): BusyHolder | null {
    return this.#holder;
  }

  /**
   * Takes the lock, or returns null when it is held. The returned release is idempotent.
   * Throws StoppingError once the lock is closed.
   */
  tryAcquire(holder: BusyHolder): (() => void) | null {
    if (this.#closed) throw new StoppingError();
    if (this.#holder) return null;
    this.#holder = holder;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holder = null;
    };
  }

  /**
   * Lets nothing take the lock again, for good. A stopping server closes it before it stops its
   * runs, or a run asked for meanwhile (on a connection still open) would start after them and
   * outlive the server.
   */
  close(): void {
    this.#closed = true;
  }
}
