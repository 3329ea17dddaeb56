import type { Logger } from 'pino';

export interface FirstContactOptions {
  /** Base URL of identity-org, which mirrors the caller of any of its `/v1` routes. */
  identityOrgUrl: string;
  logger: Logger;
  /** How long a mirrored caller is not announced again by this gateway. */
  knownForMs?: number;
  /** How long after a failed announcement the caller is tried again. */
  retryAfterMs?: number;
  /** Most callers remembered; the oldest are forgotten first. */
  maxRemembered?: number;
  timeoutMs?: number;
}

const DAY_MS = 86_400_000;

/**
 * Makes sure identity-org has met every caller, whichever service they call first. Identity-org
 * mirrors a caller (and announces `identity.user_registered`, from which notification learns
 * where to write) on any of its routes; someone who only ever books would otherwise never be
 * mirrored, and their booking notices would find no recipient. So the first time a gateway sees a
 * subject on another service's route, it calls identity-org's `GET /v1/me` with the caller's own
 * token, in the background: the request itself is forwarded at once and never waits for it.
 * Notification retries a notice whose recipient it does not know yet, which covers the gap.
 */
export function createFirstContact(options: FirstContactOptions) {
  const knownForMs = options.knownForMs ?? DAY_MS;
  const retryAfterMs = options.retryAfterMs ?? 30_000;
  const maxRemembered = options.maxRemembered ?? 100_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  // Subject → when to announce again; insertion order is the forgetting order.
  const nextAnnouncement = new Map<string, number>();
  const inFlight = new Set<string>();

  function remember(subject: string, forMs: number): void {
    nextAnnouncement.delete(subject);
    nextAnnouncement.set(subject, Date.now() + forMs);
    if (nextAnnouncement.size > maxRemembered) {
      const oldest = nextAnnouncement.keys().next().value;
      if (oldest !== undefined) nextAnnouncement.delete(oldest);
    }
  }

  async function announce(subject: string, authorization: string): Promise<void> {
    try {
      const response = await fetch(`${options.identityOrgUrl}/v1/me`, {
        headers: { authorization },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      // A 4xx will not change on retry (e.g. a token without an email): wait as long as for a
      // success. Identity-org down or failing: try again soon.
      remember(subject, response.status < 500 ? knownForMs : retryAfterMs);
      if (!response.ok) {
        options.logger.warn(
          { status: response.status },
          'identity-org refused to mirror a first-time caller',
        );
      }
    } catch (error) {
      remember(subject, retryAfterMs);
      options.logger.warn({ err: error }, 'could not announce a first-time caller to identity-org');
    } finally {
      inFlight.delete(subject);
    }
  }

  return {
    /** Announces the caller unless this gateway did so recently or is doing so now. */
    seen(subject: string, authorization: string): void {
      const due = nextAnnouncement.get(subject);
      if ((due !== undefined && due > Date.now()) || inFlight.has(subject)) return;
      inFlight.add(subject);
      void announce(subject, authorization);
    },
  };
}

export type FirstContact = ReturnType<typeof createFirstContact>;
