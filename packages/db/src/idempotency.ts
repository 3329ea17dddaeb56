import { createHash } from 'node:crypto';
import { type Kysely, type QueryExecutorProvider, sql } from 'kysely';
import type { PlatformTables } from './platform.tables.ts';

/** The response stored for an idempotency key and replayed on retries. */
export interface StoredResponse {
  statusCode: number;
  body: unknown;
  /** Set on an answer replayed from the key (as stored, whatever the route answers today). */
  replayed?: boolean;
}

export interface IdempotencyKeyOptions {
  /** Namespace of the key, e.g. `POST /bookings` plus the caller. */
  scope: string;
  key: string;
  /** Hash of the request; the same key with another request is rejected. */
  fingerprint: string;
  /** A pending key older than this is taken to belong to a crashed request; default 60 s. */
  pendingTimeoutMs?: number;
}

export type IdempotencyErrorCode = 'IDEMPOTENCY_KEY_REUSED' | 'IDEMPOTENCY_KEY_IN_PROGRESS';

/** Shaped like service-kit's DomainError (name, code, status), so its error handler renders it. */
export class IdempotencyKeyError extends Error {
  readonly status: number;
  readonly statusCode: number;
  readonly extra: Readonly<Record<string, unknown>> = {};

  constructor(
    readonly code: IdempotencyErrorCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'DomainError';
    this.status = code === 'IDEMPOTENCY_KEY_REUSED' ? 422 : 409;
    this.statusCode = this.status;
  }
}

/**
 * Stores the response in the caller's transaction, so the key is completed exactly when the work
 * commits: a crash after the commit cannot leave the key pending (and a retry run the work again).
 */
export type KeepResponse = (trx: QueryExecutorProvider, response: StoredResponse) => Promise<void>;

/**
 * Runs `fn` once per key and replays its stored response afterwards. A 'pending' row claimed
 * under the unique key first means concurrent identical requests cannot both run: the loser gets
 * IDEMPOTENCY_KEY_IN_PROGRESS (409). The same key with another fingerprint is
 * IDEMPOTENCY_KEY_REUSED (422). When `fn` throws, the claim is released so the client may retry.
 * `fn` should hand its response to `keep` inside the transaction that does its work (see
 * `KeepResponse`); when `fn` never calls `keep`, the key is completed after `fn` returns.
 */
export async function withIdempotencyKey<DB>(
  db: Kysely<DB>,
  options: IdempotencyKeyOptions,
  fn: (keep: KeepResponse) => Promise<StoredResponse>,
): Promise<StoredResponse> {
  const platform = db as unknown as Kysely<PlatformTables>;
  const { scope, key, fingerprint } = options;
  const pendingTimeoutMs = options.pendingTimeoutMs ?? 60_000;

  // A key released (its work failed) between our claim and our read is claimed again.
  for (let attempt = 1; ; attempt++) {
    const claimed = await sql<{ key: string }>`
      INSERT INTO idempotency_keys (scope, key, fingerprint, status)
      VALUES (${scope}, ${key}, ${fingerprint}, 'pending')
      ON CONFLICT (scope, key) DO UPDATE SET updated_at = now()
        WHERE idempotency_keys.status = 'pending'
          AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
          AND idempotency_keys.updated_at < now() - ${pendingTimeoutMs} * interval '1 millisecond'
      RETURNING key`.execute(platform);
    if (claimed.rows.length > 0) break;

    const existing = await platform
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'status', 'status_code', 'body'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!existing) {
      if (attempt < CLAIM_ATTEMPTS) continue;
      throw new IdempotencyKeyError(
        'IDEMPOTENCY_KEY_IN_PROGRESS',
        'a request with this Idempotency-Key is in progress',
      );
    }
    if (existing.fingerprint !== fingerprint) {
      throw new IdempotencyKeyError(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was used for a different request',
      );
    }
    if (existing.status === 'pending' || existing.status_code === null) {
      throw new IdempotencyKeyError(
        'IDEMPOTENCY_KEY_IN_PROGRESS',
        'a request with this Idempotency-Key is in progress',
      );
    }
    return { statusCode: existing.status_code, body: existing.body, replayed: true };
  }

  // An upsert: the claim may be gone (a retry took over a claim it thought stale and failed),
  // and the work did happen — its answer is what the key must replay.
  const complete = (executor: QueryExecutorProvider, response: StoredResponse) =>
    sql`INSERT INTO idempotency_keys (scope, key, fingerprint, status, status_code, body)
        VALUES (${scope}, ${key}, ${fingerprint}, 'completed', ${response.statusCode},
                ${JSON.stringify(response.body ?? null)}::jsonb)
        ON CONFLICT (scope, key) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, status = 'completed',
              status_code = EXCLUDED.status_code, body = EXCLUDED.body`.execute(executor);
  let kept = false;
  const keep: KeepResponse = async (trx, keptResponse) => {
    await complete(trx, keptResponse);
    kept = true;
  };
  let response: StoredResponse;
  try {
    response = await fn(keep);
  } catch (error) {
    await platform
      .deleteFrom('idempotency_keys')
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('status', '=', 'pending')
      .execute();
    throw error;
  }
  if (!kept) await complete(platform, response);
  return response;
}

/** Claims of a key that keeps vanishing between the claim and the read before answering 409. */
const CLAIM_ATTEMPTS = 3;

/** An HTTP request as `runIdempotently` scopes and fingerprints it. */
export interface IdempotentRequest {
  /** The `Idempotency-Key` header, if the client sent one. */
  key: string | undefined;
  /** Method and route pattern, e.g. `POST /v1/events/:eventId/bookings`. */
  route: string;
  /** Who asks: a key is never shared between callers. */
  callerId: string;
  params: unknown;
  body: unknown;
}

/**
 * `withIdempotencyKey` for an HTTP request: without a key `fn` simply runs; with one, the key is
 * scoped to the route and the caller, and the request is fingerprinted by route, path parameters
 * and body, so a retry replays the stored answer and the key reused for anything else is refused.
 */
export function runIdempotently<DB>(
  db: Kysely<DB>,
  request: IdempotentRequest,
  fn: (keep: KeepResponse) => Promise<StoredResponse>,
): Promise<StoredResponse> {
  // Without a key there is nothing to keep.
  if (request.key === undefined) return fn(async () => {});
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ route: request.route, params: request.params, body: request.body }))
    .digest('hex');
  return withIdempotencyKey(
    db,
    { scope: `${request.route} ${request.callerId}`, key: request.key, fingerprint },
    fn,
  );
}
