import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '@happening/contracts';
import { enqueueEvents, withTransaction } from '@happening/db';
import { assertVersion, type ExpectedVersion, versionMismatch } from '@happening/service-kit';
import type { Transaction } from 'kysely';
import type { Caller, CatalogDeps } from '../../app.deps.ts';
import type { CatalogDatabase } from '../../database.ts';
import { confirmedSeatsOf } from '../availability/availability.projection.ts';
import { roleOf } from '../memberships/membership.repository.ts';
import { changeAccess, EVENT_MANAGERS, orgAccess } from './event.access.ts';
import { decideCancel, decideCreate, decidePatch, decidePublish } from './event.decider.ts';
import { decided, enforce, eventNotFound, orgNotFound } from './event.errors.ts';
import type { CatalogEvent, EventDraftInput, EventPatch } from './event.model.ts';
import {
  eventCancelled,
  eventChanged,
  eventCreated,
  eventPublished,
  type Trace,
} from './event.outbox.ts';
import { findEvent, insertEvent, saveEvent } from './event.repository.ts';
import { findListedEvent, type ListedEvent } from './event-listing.repository.ts';

type Trx = Transaction<CatalogDatabase>;
type Change = { event: CatalogEvent; published: DomainEvent[] };

const traceOf = (caller: Caller): Trace => ({ correlationId: caller.requestId });

async function reread(trx: Trx, id: string): Promise<ListedEvent> {
  const listed = await findListedEvent(trx, id);
  if (!listed) throw eventNotFound();
  return listed;
}

/**
 * Refuses a caller who may not create events in `orgId` (as `createEvent` does): checked before an
 * `Idempotency-Key` replays a stored answer, so someone who left the organization since does not
 * read its draft again.
 */
export async function assertMayCreateEvents(
  deps: CatalogDeps,
  caller: Caller,
  orgId: string,
): Promise<void> {
  enforce(orgAccess(await roleOf(deps.db, orgId, caller.userId), EVENT_MANAGERS), orgNotFound);
}

/** Creates a draft in `orgId` (organizers and admins only) and announces it. */
export async function createEvent(
  deps: CatalogDeps,
  caller: Caller,
  orgId: string,
  input: EventDraftInput,
  /** Runs in the creating transaction with the new event (the idempotency key's answer). */
  beforeCommit?: (trx: Trx, created: ListedEvent) => Promise<void>,
): Promise<ListedEvent> {
  const listed = await withTransaction(deps.db, async (trx) => {
    enforce(orgAccess(await roleOf(trx, orgId, caller.userId), EVENT_MANAGERS), orgNotFound);
    const draft = decided(
      decideCreate(input, { id: randomUUID(), orgId, createdBy: caller.userId, now: deps.clock() }),
    );
    const event = await insertEvent(trx, draft);
    await enqueueEvents(trx, [eventCreated(event, traceOf(caller))]);
    const created = await reread(trx, event.id);
    await beforeCommit?.(trx, created);
    return created;
  });
  deps.afterCommit();
  return listed;
}

/**
 * Loads and locks the event, checks the caller may change it, applies `decide` and writes the
 * new state with the events it publishes in one transaction.
 */
async function changeEvent(
  deps: CatalogDeps,
  caller: Caller,
  eventId: string,
  decide: (current: CatalogEvent, trx: Trx) => Promise<Change>,
): Promise<ListedEvent> {
  const listed = await withTransaction(deps.db, async (trx) => {
    const current = await findEvent(trx, eventId, { forUpdate: true });
    if (!current) throw eventNotFound();
    enforce(changeAccess(current, await roleOf(trx, current.orgId, caller.userId)), eventNotFound);
    const { event, published } = await decide(current, trx);
    if (event !== current && !(await saveEvent(trx, event, current.version))) {
      throw versionMismatch('event', current.version);
    }
    await enqueueEvents(trx, published);
    return reread(trx, eventId);
  });
  deps.afterCommit();
  return listed;
}

/**
 * PATCH with optimistic concurrency: `expectedVersion` (the If-Match) must be the event's current
 * version, or `*` for whichever it is. It is read only once access is checked, so a caller who may
 * not change the event gets its 404 or 403 whatever it sent, not a 428 that confirms the event
 * exists.
 */
export function patchEvent(
  deps: CatalogDeps,
  caller: Caller,
  eventId: string,
  expectedVersion: () => ExpectedVersion,
  patch: EventPatch,
): Promise<ListedEvent> {
  return changeEvent(deps, caller, eventId, async (current, trx) => {
    assertVersion('event', current.version, expectedVersion());
    const confirmedSeats = await confirmedSeatsOf(trx, current.id);
    const outcome = decided(decidePatch(current, patch, { confirmedSeats, now: deps.clock() }));
    return {
      event: outcome.event,
      published: eventChanged(outcome, traceOf(caller), caller.userId),
    };
  });
}

export function publishEvent(deps: CatalogDeps, caller: Caller, eventId: string) {
  return changeEvent(deps, caller, eventId, async (current) => {
    const event = decided(decidePublish(current, deps.clock()));
    return { event, published: [eventPublished(event, traceOf(caller))] };
  });
}

export function cancelEvent(deps: CatalogDeps, caller: Caller, eventId: string, reason: string) {
  return changeEvent(deps, caller, eventId, async (current) => {
    const event = decided(decideCancel(current, deps.clock()));
    const cancellation = { reason, cancelledBy: caller.userId };
    return { event, published: [eventCancelled(event, cancellation, traceOf(caller))] };
  });
}
