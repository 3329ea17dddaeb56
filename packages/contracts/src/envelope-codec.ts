import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type AggregateRef, envelopeSchema, type Source } from './envelope.ts';
import { ContractError, type ContractIssue } from './errors.ts';
import {
  type AnyEventData,
  currentVersion,
  type EventData,
  type EventType,
  eventRegistry,
  isEventType,
} from './registry.ts';

/** A domain event of type T in its envelope. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  version: number;
  occurredAt: string;
  source: Source;
  orgId?: string;
  aggregate: AggregateRef;
  correlationId: string;
  causationId?: string;
  data: EventData<T>;
}

/**
 * Any domain event a consumer may receive, discriminated on `type`; its `data` is any version of
 * that type's payload (an old version may still be in flight).
 */
export type DomainEvent = {
  [T in EventType]: Omit<EventEnvelope<T>, 'data'> & { data: AnyEventData<T> };
}[EventType];

export interface EventMeta {
  source: Source;
  aggregate: AggregateRef;
  correlationId: string;
  causationId?: string;
  orgId?: string;
  id?: string;
  occurredAt?: Date | string;
}

function toIssues(error: z.ZodError): ContractIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** Builds a validated envelope for the current version of `type`. */
export function buildEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  meta: EventMeta,
): EventEnvelope<T> {
  const version = currentVersion(type);
  const schema = (eventRegistry[type] as Record<number, z.ZodType>)[version] as z.ZodType;
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new ContractError(
      'INVALID_EVENT_DATA',
      `invalid data for ${type}`,
      toIssues(parsed.error),
    );
  }
  const occurredAt = meta.occurredAt ?? new Date();
  const envelope: EventEnvelope<T> = {
    id: meta.id ?? randomUUID(),
    type,
    version,
    occurredAt: typeof occurredAt === 'string' ? occurredAt : occurredAt.toISOString(),
    source: meta.source,
    aggregate: meta.aggregate,
    correlationId: meta.correlationId,
    data: parsed.data as EventData<T>,
  };
  if (meta.orgId !== undefined) envelope.orgId = meta.orgId;
  if (meta.causationId !== undefined) envelope.causationId = meta.causationId;
  const checked = envelopeSchema.safeParse(envelope);
  if (!checked.success) {
    throw new ContractError(
      'INVALID_ENVELOPE',
      `invalid envelope for ${type}`,
      toIssues(checked.error),
    );
  }
  return envelope;
}

/**
 * Parses an untrusted message into a DomainEvent, rejecting unknown types and versions and
 * malformed data with a ContractError that names the offending fields.
 */
export function parseEvent(raw: unknown): DomainEvent {
  const input = typeof raw === 'string' || Buffer.isBuffer(raw) ? parseJson(raw) : raw;
  const envelope = envelopeSchema.safeParse(input);
  if (!envelope.success) {
    throw new ContractError('INVALID_ENVELOPE', 'invalid event envelope', toIssues(envelope.error));
  }
  const { type, version } = envelope.data;
  if (!isEventType(type)) {
    throw new ContractError('UNKNOWN_EVENT_TYPE', `unknown event type ${type}`);
  }
  const versions = eventRegistry[type] as Record<number, z.ZodType>;
  const schema = versions[version];
  if (!schema) {
    throw new ContractError('UNKNOWN_EVENT_VERSION', `unknown version ${version} of ${type}`);
  }
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) {
    throw new ContractError(
      'INVALID_EVENT_DATA',
      `invalid data for ${type} v${version}`,
      toIssues(data.error).map((i) => ({ ...i, path: `data.${i.path}` })),
    );
  }
  return { ...envelope.data, type, data: data.data } as DomainEvent;
}

function parseJson(raw: string | Buffer): unknown {
  try {
    return JSON.parse(raw.toString());
  } catch {
    throw new ContractError('INVALID_ENVELOPE', 'message is not valid JSON');
  }
}
