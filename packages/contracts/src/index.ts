export {
  type AggregateRef,
  aggregateRefSchema,
  envelopeSchema,
  type RawEnvelope,
  SOURCES,
  type Source,
} from './envelope.ts';
export {
  buildEvent,
  type DomainEvent,
  type EventEnvelope,
  type EventMeta,
  parseEvent,
} from './envelope-codec.ts';
export { ContractError, type ContractErrorCode, type ContractIssue } from './errors.ts';
export { EVENT_OWNERS, type EventContext, ownerOf, untrustedOrigin } from './event-owners.ts';
export * from './events/booking.events.ts';
export * from './events/catalog.events.ts';
export * from './events/identity.events.ts';
export * from './events/notification.events.ts';
export {
  emailAddressSchema,
  type Problem,
  pageSchema,
  problemSchema,
  requestIdSchema,
} from './http.ts';
export {
  type AnyEventData,
  currentVersion,
  EVENT_TYPES,
  type EventData,
  type EventDataOf,
  type EventType,
  eventRegistry,
  isEventType,
} from './registry.ts';
export { ROLES, type Role, roleSchema } from './roles.ts';
export { createSealedBox, createSealedBoxRing, type SealedBox } from './sealed-box.ts';
