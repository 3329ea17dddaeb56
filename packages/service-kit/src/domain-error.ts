/** A business or request failure with a stable `code`, rendered as problem+json with `status`. */
export class DomainError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    readonly status: number,
    readonly detail: string,
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail);
    this.name = 'DomainError';
  }
}

/** Narrows unknown errors (also across duplicated module instances) to DomainError. */
export function isDomainError(error: unknown): error is DomainError {
  return (
    error instanceof DomainError ||
    (error instanceof Error &&
      error.name === 'DomainError' &&
      typeof (error as Partial<DomainError>).code === 'string' &&
      typeof (error as Partial<DomainError>).status === 'number')
  );
}
