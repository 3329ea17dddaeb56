/** Delay before a row whose publish failed `attempts` times is tried again: doubling, capped. */
export function outboxRetryDelayMs(
  attempts: number,
  maxDelayMs: number,
  initialDelayMs = 200,
): number {
  return Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempts - 1));
}
