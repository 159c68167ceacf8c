import { StoreInputError, StoreUnavailableError } from '../store-errors.js';

interface PostgresError {
  code?: string;
  message: string;
}

const asPostgresError = (error: unknown): PostgresError => (error instanceof Error ? (error as Error & { code?: string }) : { message: String(error) });

/**
 * SQLSTATE classes a client's input can cause: a data exception (22: a NUL byte in a text, a
 * number out of range) or a program limit (54: a value too large for an index entry).
 */
export function isCausedByInput(error: unknown): boolean {
  const { code } = asPostgresError(error);
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}

export function describePostgresError(error: unknown): string {
  const { code, message } = asPostgresError(error);
  if (code === '57014' || /Query read timeout|timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(message)) {
    return 'PostgreSQL did not answer in time';
  }
  if (code === '57P03') return 'PostgreSQL is starting up or shutting down';
  if (code === '57P01' || code === '57P02' || code?.startsWith('08')) return 'PostgreSQL is unreachable';
  if (
    /ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EHOSTUNREACH|Connection terminated|Client has encountered a connection error|not queryable|Client was closed|Cannot use a pool after calling end/i.test(
      message,
    )
  ) {
    return 'PostgreSQL is unreachable';
  }
  if (code === '53300') return 'PostgreSQL has no connection slot left';
  if (code?.startsWith('53')) return `PostgreSQL is out of resources (${message})`;
  if (code === '40001' || code === '40P01' || code === '55P03') return 'PostgreSQL is busy (lock conflict)';
  if (code === '25006') return 'PostgreSQL is read-only (failover in progress)';
  return `PostgreSQL error: ${message}`;
}

/** The seam's error for any failure: StoreInputError when the client's input caused it, StoreUnavailableError otherwise. */
export function storeError(error: unknown): Error {
  if (error instanceof StoreUnavailableError || error instanceof StoreInputError) return error;
  if (isCausedByInput(error)) return new StoreInputError(`the store refused the input: ${asPostgresError(error).message}`, { cause: error });
  return new StoreUnavailableError(describePostgresError(error), { cause: error });
}
