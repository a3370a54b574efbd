export interface AuthThrottleOptions {
  /** Wrong tokens from one address within `windowMs` that get it refused (0: never refused). */
  maxFailures: number;
  windowMs: number;
  /** How long a refused address stays refused. */
  blockMs: number;
  /** Addresses remembered at most; the least recently failing are forgotten first. */
  maxAddresses: number;
}

export const DEFAULT_AUTH_THROTTLE: AuthThrottleOptions = {
  maxFailures: 10,
  windowMs: 60_000,
  blockMs: 60_000,
  maxAddresses: 10_000,
};

interface AddressState {
  /** Times of the latest failures, oldest first, at most `maxFailures` of them. */
  failures: number[];
  blockedUntil: number;
}

/**
 * Refuses an address for a while after too many wrong tokens, so guessing the token costs
 * time while every other address is served as before. Memory is bounded by `maxAddresses`.
 */
export class AuthThrottle {
  readonly options: AuthThrottleOptions;
  readonly #addresses = new Map<string, AddressState>();

  constructor(options: AuthThrottleOptions = DEFAULT_AUTH_THROTTLE) {
    this.options = options;
  }

  /** Milliseconds the address must still wait; 0 when it may try. */
  waitMs(address: string, now = Date.now()): number {
    const state = this.#addresses.get(address);
    return state ? Math.max(0, state.blockedUntil - now) : 0;
  }

  /** Counts a wrong token; the failure that reaches the limit starts the block (and returns true). */
  recordFailure(address: string, now = Date.now()): boolean {
    const { maxFailures, windowMs, blockMs, maxAddresses } = this.options;
    if (maxFailures === 0) return false;
    const state = this.#addresses.get(address) ?? { failures: [], blockedUntil: 0 };
    // Re-inserted so that Map order is least recently failing first.
    this.#addresses.delete(address);
    this.#addresses.set(address, state);
    state.failures = [...state.failures.filter((at) => now - at < windowMs), now].slice(-maxFailures);
    const blocked = state.failures.length >= maxFailures;
    if (blocked) {
      state.blockedUntil = now + blockMs;
      state.failures = [];
    }
    while (this.#addresses.size > maxAddresses) {
      const oldest = this.#addresses.keys().next().value;
      if (oldest === undefined) break;
      this.#addresses.delete(oldest);
    }
    return blocked;
  }
}
