/** What holds the server: one run or one upload at a time. */
export interface BusyHolder {
  kind: "run" | "upload";
  id: string;
}

/**
 * The one global lock. Node runs handlers on one thread, so a check-and-set with no await
 * between is atomic: two requests arriving together can never both get it.
 */
export class OperationLock {
  #holder: BusyHolder | null = null;

  get holder(): BusyHolder | null {
    return this.#holder;
  }

  /** Takes the lock, or returns null when it is held. The returned release is idempotent. */
  tryAcquire(holder: BusyHolder): (() => void) | null {
    if (this.#holder) return null;
    this.#holder = holder;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holder = null;
    };
  }
}
