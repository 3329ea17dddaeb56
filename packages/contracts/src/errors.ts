/** Why a message is not a valid domain event. */
export type ContractErrorCode =
  | 'INVALID_ENVELOPE'
  | 'UNKNOWN_EVENT_TYPE'
  | 'UNKNOWN_EVENT_VERSION'
  | 'INVALID_EVENT_DATA';

export interface ContractIssue {
  path: string;
  message: string;
}

/** Raised by parseEvent/buildEvent; `issues` name each offending field by path. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  constructor(
    readonly code: ContractErrorCode,
    message: string,
    readonly issues: ContractIssue[] = [],
  ) {
    super(
      issues.length
        ? `${message}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`
        : message,
    );
  }
}
