/**
 * Errors the Engine API client raises. The CLI prints them the way the docker
 * CLI does; compose and tests can branch on `status`.
 *
 *   try { await c.json('GET', '/containers/x/json') }
 *   catch (e) { if (e instanceof DaemonError && e.status === 404) ... }
 */

/** The daemon answered with an error status; `message` is its `{"message": ...}`. */
export class DaemonError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'DaemonError';
  }
  /** The text the docker CLI prints for it. */
  get display(): string {
    return `Error response from daemon: ${this.message}`;
  }
}

/** The daemon could not be reached at all (socket missing, connection refused). */
export class ConnectionError extends Error {
  constructor(readonly host: string, readonly cause: Error) {
    super((cause as NodeJS.ErrnoException).code === 'EACCES'
      ? `permission denied while trying to connect to the Berth daemon socket at ${host}: ${cause.message}`
      : `Cannot connect to the Berth daemon at ${host}. Is the daemon running?`);
    this.name = 'ConnectionError';
  }
}

/** An error reported inside a JSON-lines progress stream (pull, load, import). */
export class StreamError extends Error {
  /** `errorDetail.code` when the daemon gave one (a failed build step's exit code). */
  code?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
    this.name = 'StreamError';
  }
}
