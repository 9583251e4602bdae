/**
 * Typed errors thrown by services. The API layer maps each kind to an HTTP
 * status exactly once (see api/errors.ts); services never speak HTTP.
 *
 *   throw new NotFound(`No such container: ${ref}`)
 */
export class BerthError extends Error {
  /** HTTP status the API layer answers with. */
  readonly status: number = 500;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The named object does not exist (404). */
export class NotFound extends BerthError {
  override readonly status = 404;
}

/** The request clashes with the current state, e.g. a name in use (409). */
export class Conflict extends BerthError {
  override readonly status = 409;
}

/** The caller sent something malformed: a bad flag, reference or body (400). */
export class InvalidArgument extends BerthError {
  override readonly status = 400;
}

/** The caller may not do this, e.g. a bad registry login (401/403 from upstream). */
export class Unauthorized extends BerthError {
  override readonly status = 401;
}

/** Something exists but is in no state to serve (e.g. not running) (409 in Docker). */
export class NotModified extends BerthError {
  override readonly status = 304;
}

/** The feature is deliberately absent, e.g. swarm (503 as Docker answers). */
export class Unavailable extends BerthError {
  override readonly status = 503;
}

export function errorStatus(err: unknown): number {
  return err instanceof BerthError ? err.status : 500;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
