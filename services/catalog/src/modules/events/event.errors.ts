import { DomainError } from '@happening/service-kit';
import type { AccessVerdict } from './event.access.ts';
import type { Decision, Refusal } from './event.refusal.ts';

export const eventNotFound = () => new DomainError('EVENT_NOT_FOUND', 404, 'No such event.');

export const orgNotFound = () =>
  new DomainError('ORGANIZATION_NOT_FOUND', 404, 'No such organization.');

export function refusalError(refusal: Refusal): DomainError {
  return new DomainError(
    refusal.code,
    refusal.status,
    refusal.detail,
    refusal.errors ? { errors: refusal.errors } : {},
  );
}

/** The value of an accepted decision; a refusal becomes its problem+json error. */
export function decided<T>(decision: Decision<T>): T {
  if (!decision.ok) throw refusalError(decision.refusal);
  return decision.value;
}

/** Throws the error an access verdict calls for (`notFound` names the missing resource). */
export function enforce(verdict: AccessVerdict, notFound: () => DomainError): void {
  if (verdict === 'not_found') throw notFound();
  if (verdict === 'forbidden') {
    throw new DomainError('FORBIDDEN', 403, 'Your role in this organization does not allow this.');
  }
}
