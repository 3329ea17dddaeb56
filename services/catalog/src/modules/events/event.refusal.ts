/** Stable codes of the catalog's business refusals. */
export type CatalogErrorCode =
  | 'VALIDATION_FAILED'
  | 'ILLEGAL_TRANSITION'
  | 'EVENT_NOT_EDITABLE'
  | 'EVENT_START_IN_PAST'
  | 'EVENT_ALREADY_STARTED'
  | 'EVENT_END_IN_PAST'
  | 'EVENT_VISIBILITY_NARROWED'
  | 'EVENT_WAITLIST_POLICY_LOCKED'
  | 'CAPACITY_BELOW_CONFIRMED';

export interface FieldProblem {
  path: string;
  message: string;
}

/** Why a command was refused; routes turn it into a problem+json answer. */
export interface Refusal {
  code: CatalogErrorCode;
  status: 400 | 409 | 422;
  detail: string;
  errors?: FieldProblem[];
}

export type Decision<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const accept = <T>(value: T): Decision<T> => ({ ok: true, value });
export const refuse = <T>(refusal: Refusal): Decision<T> => ({ ok: false, refusal });
