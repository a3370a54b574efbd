/**
 * Wall-clock time in microseconds with sub-millisecond resolution, aligned to the system's
 * CLOCK_REALTIME (what bash's EPOCHREALTIME and `date +%s%N` read). Date.now() alone has
 * millisecond steps; performance.now() is fine-grained but has its own origin. The offset is
 * taken where Date.now() ticks over; of several tries the one whose tick was seen in the
 * shortest window wins, so a try that the scheduler interrupted (a loaded machine) is dropped.
 */
export function createWallClock(tries = 10): () => number {
  let best = { window: Infinity, offsetMs: 0 };
  for (let index = 0; index < tries; index++) {
    const start = Date.now();
    let before = performance.now();
    let after = before;
    let now = start;
    for (;;) {
      now = Date.now();
      after = performance.now();
      if (now !== start) break;
      before = after;
    }
    if (after - before < best.window) best = { window: after - before, offsetMs: now - (before + after) / 2 };
  }
  const { offsetMs } = best;
  return () => (performance.now() + offsetMs) * 1000;
}
