/** The store could not be reached, or refused the work for its own reasons: the server answers 503 with this reason. */
export class StoreUnavailableError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The store refused the work because of what the client sent: the server answers 400 with this reason. */
export class StoreInputError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'StoreInputError';
  }
}
