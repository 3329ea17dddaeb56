export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff with full jitter on the upper half, so reconnecting replicas spread out. */
export function backoffDelay(
  attempt: number,
  { initialDelayMs, maxDelayMs }: BackoffOptions,
  random = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
