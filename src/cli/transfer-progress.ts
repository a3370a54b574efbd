/** How often a terminal bar is redrawn: smooth to the eye, cheap on a fast link. */
const REDRAW_MS = 100;
/** The rate is measured over this much recent time, so it follows the link, not the average. */
const RATE_WINDOW_MS = 3000;
/** Without a terminal, a line at every step of this many percent. */
const PLAIN_STEP_PERCENT = 10;

export interface TransferProgress {
  /** `done` bytes of the total have been sent. */
  update(done: number): void;
  /** The server confirmed: only now does the display say 100%. */
  finish(): void;
  /** The transfer failed: ends the bar's line so the error starts on its own. */
  abandon(): void;
}

/** A progress bar with bytes, rate and ETA on a terminal; a few plain lines otherwise. */
export function createTransferProgress(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, label: string, total: number): TransferProgress {
  const started = performance.now();
  const samples: Array<{ at: number; done: number }> = [{ at: started, done: 0 }];
  let done = 0;
  let lastDraw = 0;
  let lastStep = -1;
  let open = false;

  const rate = (now: number): number => {
    while (samples.length > 2 && now - (samples[1] as { at: number }).at > RATE_WINDOW_MS) samples.shift();
    const first = samples[0] as { at: number; done: number };
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (done - first.done) / seconds : 0;
  };
  // Never 100% before the server has said so: the last bytes may still be in flight or being checked.
  const percent = (confirmed: boolean) => (confirmed ? 100 : Math.min(99, total > 0 ? Math.floor((done / total) * 100) : 0));

  const drawBar = (confirmed: boolean) => {
    const now = performance.now();
    const speed = confirmed ? (done / Math.max(now - started, 1)) * 1000 : rate(now);
    const pct = percent(confirmed);
    const eta = confirmed
      ? `in ${clock((now - started) / 1000)}`
      : done >= total
        ? "the server is checking"
        : speed > 0
          ? `ETA ${clock((total - done) / speed)}`
          : "ETA --:--";
    const text = `${formatBytes(done)}/${formatBytes(total)} ${formatBytes(speed)}/s ${eta}`;
    const width = Math.max(10, Math.min(40, (out.columns ?? 80) - label.length - text.length - 10));
    const filled = Math.round((pct / 100) * width);
    out.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(pct).padStart(3)}% ${text}\x1b[K`);
    open = true;
  };
  const printLine = (confirmed: boolean) => {
    const now = performance.now();
    const speed = (done / Math.max(now - started, 1)) * 1000;
    out.write(`${label}: ${percent(confirmed)}% (${formatBytes(done)} of ${formatBytes(total)}, ${formatBytes(speed)}/s)\n`);
  };

  return {
    update(value) {
      done = value;
      if (out.isTTY) {
        const now = performance.now();
        if (now - lastDraw >= REDRAW_MS || done >= total) {
          lastDraw = now;
          samples.push({ at: now, done });
          drawBar(false);
        }
        return;
      }
      const step = Math.floor(percent(false) / PLAIN_STEP_PERCENT);
      if (step > lastStep) {
        lastStep = step;
        printLine(false);
      }
    },
    finish() {
      if (out.isTTY) {
        drawBar(true);
        out.write("\n");
        open = false;
      } else {
        printLine(true);
      }
    },
    abandon() {
      if (open) out.write("\n");
      open = false;
    },
  };
}

/** Bytes in binary units with three significant digits, as `ls -h` would show them. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

function clock(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
