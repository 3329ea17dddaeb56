import type { Logger } from 'pino';

export interface FirstContactOptions {
  /** Base URL of identity-org, which mirrors the caller of any of its `/v1` routes. */
  identityOrgUrl: string;
  logger: Logger;
  /** How long a mirrored caller is not announced again by this gateway. */
  knownForMs?: number;
  /** How long after a failed announcement it is tried again. */
  retryAfterMs?: number;
  /** Tries per announcement (the first included) before waiting for the caller's next request. */
  maxAttempts?: number;
  /** Announcements running at once; the others wait their turn. */
  maxInFlight?: number;
  /** Announcements waiting at most; beyond it a caller is announced on a later request. */
  maxQueued?: number;
  /** Most callers remembered; the oldest are forgotten first. */
  maxRemembered?: number;
  timeoutMs?: number;
}

const DAY_MS = 86_400_000;
/** Answers that may change on another try: an expired token, a timeout, a throttle, a failure. */
const worthRetrying = (status: number) =>
  status === 401 || status === 408 || status === 429 || status >= 500;

/**
 * Makes sure identity-org has met every caller, whichever service they call first. Identity-org
 * mirrors a caller (and announces `identity.user_registered`, from which notification learns
 * where to write) on any of its routes; someone who only ever books would otherwise never be
 * mirrored, and their booking notices would find no recipient. So the first time a gateway sees a
 * subject on another service's route, it calls identity-org's `GET /v1/me` with the caller's own
 * token, in the background: the request itself is forwarded at once and never waits for it.
 * A few announcements run at once (a stampede of new callers, or a restarted gateway, must not
 * flood identity-org); a failed one is tried again a few times on its own, so a caller who made a
 * single request while identity-org was away is still introduced. Notification retries a notice
 * whose recipient it does not know yet, which covers the gap.
 */
export function createFirstContact(options: FirstContactOptions) {
  const knownForMs = options.knownForMs ?? DAY_MS;
  const retryAfterMs = options.retryAfterMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 3;
  const maxInFlight = options.maxInFlight ?? 16;
  const maxQueued = options.maxQueued ?? 10_000;
  const maxRemembered = options.maxRemembered ?? 100_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  // Subject → when to announce again; insertion order is the forgetting order.
  const nextAnnouncement = new Map<string, number>();
  // Subject → the caller's newest token, for whichever try starts next (an earlier one may have
  // expired). Kept only while the subject is queued, running or waiting for a retry.
  const newestToken = new Map<string, string>();
  // Subject → the try it waits for, oldest first.
  const queued = new Map<string, number>();
  const running = new Set<string>();
  // Subject → its scheduled retry.
  const retries = new Map<string, NodeJS.Timeout>();
  let closed = false;

  function remember(subject: string, forMs: number): void {
    nextAnnouncement.delete(subject);
    nextAnnouncement.set(subject, Date.now() + forMs);
    if (nextAnnouncement.size > maxRemembered) {
      const oldest = nextAnnouncement.keys().next().value;
      if (oldest !== undefined) nextAnnouncement.delete(oldest);
    }
  }

  /** Drops the subject's token unless a try still waits for it. */
  function forgetTokenUnlessWaiting(subject: string): void {
    if (!queued.has(subject) && !running.has(subject) && !retries.has(subject)) {
      newestToken.delete(subject);
    }
  }

  function enqueue(subject: string, attempt: number): void {
    if (closed || (!queued.has(subject) && queued.size >= maxQueued)) {
      forgetTokenUnlessWaiting(subject);
      return;
    }
    queued.set(subject, attempt);
    pump();
  }

  function pump(): void {
    while (running.size < maxInFlight && queued.size > 0) {
      const [subject, attempt] = queued.entries().next().value as [string, number];
      queued.delete(subject);
      const authorization = newestToken.get(subject);
      if (authorization === undefined) continue;
      running.add(subject);
      void announce(subject, authorization, attempt).finally(() => {
        running.delete(subject);
        forgetTokenUnlessWaiting(subject);
        pump();
      });
    }
  }

  async function announce(subject: string, authorization: string, attempt: number) {
    let status: number | undefined;
    try {
      const response = await fetch(`${options.identityOrgUrl}/v1/me`, {
        headers: { authorization },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      status = response.status;
    } catch (error) {
      options.logger.warn({ err: error }, 'could not announce a first-time caller to identity-org');
    }
    if (status !== undefined && !worthRetrying(status)) {
      // Mirrored, or refused for good (e.g. a token without an email): not again for a while.
      remember(subject, knownForMs);
      if (status >= 300) {
        options.logger.warn({ status }, 'identity-org refused to mirror a first-time caller');
      }
      return;
    }
    // Until the retry (or, after the last, the caller's next request after the delay).
    remember(subject, retryAfterMs);
    if (attempt >= maxAttempts || closed || retries.size >= maxQueued) return;
    clearTimeout(retries.get(subject));
    const timer = setTimeout(() => {
      retries.delete(subject);
      // The try reads the newest token when it starts, not the failed one.
      if (newestToken.has(subject)) enqueue(subject, attempt + 1);
    }, retryAfterMs);
    timer.unref();
    retries.set(subject, timer);
  }

  return {
    /** Announces the caller unless this gateway did so recently or is doing so now. */
    seen(subject: string, authorization: string): void {
      newestToken.set(subject, authorization);
      if (running.has(subject)) return;
      const due = nextAnnouncement.get(subject);
      if (due !== undefined && due > Date.now()) {
        forgetTokenUnlessWaiting(subject);
        return;
      }
      enqueue(subject, queued.get(subject) ?? 1);
    },
    /** Records a caller identity-org has just served: it mirrored them itself. */
    met(subject: string): void {
      remember(subject, knownForMs);
    },
    /** Drops the scheduled retries and announces nothing more (at shutdown). */
    close(): void {
      closed = true;
      for (const timer of retries.values()) clearTimeout(timer);
      retries.clear();
      queued.clear();
      newestToken.clear();
    },
  };
}

export type FirstContact = ReturnType<typeof createFirstContact>;
