/**
 * Errors of the distribution protocol. Each has the spec's code and the HTTP
 * status registries answer with; the server writes them as
 * `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":...}]}`.
 *
 *   throw new RegistryError('BLOB_UNKNOWN', { digest })
 */
export type ErrorCode =
  | 'BLOB_UNKNOWN' | 'BLOB_UPLOAD_INVALID' | 'BLOB_UPLOAD_UNKNOWN' | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN' | 'MANIFEST_INVALID' | 'MANIFEST_UNKNOWN' | 'NAME_INVALID'
  | 'NAME_UNKNOWN' | 'SIZE_INVALID' | 'UNAUTHORIZED' | 'DENIED' | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS' | 'RANGE_INVALID' | 'PAGINATION_NUMBER_INVALID';

// Messages and statuses as the CNCF distribution registry sends them, so clients
// that print them (docker, skopeo) show familiar text.
const table: Record<ErrorCode, [number, string]> = {
  BLOB_UNKNOWN: [404, 'blob unknown to registry'],
  BLOB_UPLOAD_INVALID: [400, 'blob upload invalid'],
  BLOB_UPLOAD_UNKNOWN: [404, 'blob upload unknown to registry'],
  DIGEST_INVALID: [400, 'provided digest did not match uploaded content'],
  MANIFEST_BLOB_UNKNOWN: [400, 'blob unknown to registry'],
  MANIFEST_INVALID: [400, 'manifest invalid'],
  MANIFEST_UNKNOWN: [404, 'manifest unknown'],
  NAME_INVALID: [400, 'invalid repository name'],
  NAME_UNKNOWN: [404, 'repository name not known to registry'],
  SIZE_INVALID: [400, 'provided length did not match content length'],
  UNAUTHORIZED: [401, 'authentication required'],
  DENIED: [403, 'requested access to the resource is denied'],
  UNSUPPORTED: [405, 'The operation is unsupported.'],
  TOOMANYREQUESTS: [429, 'too many requests'],
  RANGE_INVALID: [416, 'invalid content range'],
  PAGINATION_NUMBER_INVALID: [400, 'invalid number of results requested'],
};

export class RegistryError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, readonly detail?: unknown, message?: string) {
    super(message ?? table[code][1]);
    this.status = table[code][0];
  }

  body(): string {
    const e: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return JSON.stringify({ errors: [e] });
  }
}
