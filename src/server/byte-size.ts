const MULTIPLIERS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * A size as an operator writes it: bytes, or a number with K, M, G or T (binary multiples,
 * as `du -h` shows sizes; `KiB`, `MB` and the like are read the same). Undefined if unreadable.
 */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * (MULTIPLIERS[(match[2] ?? "").toLowerCase()] ?? 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
