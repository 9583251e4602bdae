/**
 * Registry authentication: parses `WWW-Authenticate` challenges and runs the
 * bearer-token flow (GET realm?service=&scope=, with basic credentials when we
 * have some, or an OAuth2 refresh-token POST for identity tokens), caching
 * tokens per scope until they expire.
 *
 *   const auth = new Authenticator(host, creds, fetchToken)
 *   auth.learn(res.headers['www-authenticate'])          // after a 401
 *   const header = await auth.header(['repository:app:pull'])   // "Bearer eyJ…"
 */
import type { Credentials } from './credentials.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="https://auth",service="reg",scope="repository:a:pull"` (first challenge only). */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2])) !== null && p[0] !== '') {
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  }
  return { scheme: m[1].toLowerCase(), params };
}

export interface TokenResponse {
  token?: string;
  access_token?: string;
  expires_in?: number;
}

/** Performs the token request; the transport supplies it so TLS settings apply. */
export type TokenFetcher = (url: URL, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) => Promise<TokenResponse>;

export class Authenticator {
  private challenge?: Challenge;
  /** Tokens by scope set; a pending request is shared so parallel transfers fetch one token, not one each. */
  private tokens = new Map<string, Promise<{ value: string; expires: number }>>();

  constructor(private readonly creds: Credentials | undefined, private readonly fetchToken: TokenFetcher) {}

  /** Remembers a 401's challenge; returns false when it cannot be answered (no challenge, or basic without credentials). */
  learn(header: string | undefined): boolean {
    const c = parseChallenge(header);
    if (!c) return false;
    const same = this.challenge && this.challenge.scheme === c.scheme
      && this.challenge.params.realm === c.params.realm && this.challenge.params.service === c.params.service;
    this.challenge = c;
    if (!same) this.tokens.clear();
    if (c.scheme === 'basic') return !!this.creds?.username;
    return c.scheme === 'bearer' && !!c.params.realm;
  }

  /** The Authorization header for these scopes, or undefined before any challenge. */
  async header(scopes: string[]): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') {
      if (!this.creds?.username) return undefined;
      return 'Basic ' + Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64');
    }
    const key = [...scopes].sort().join(' ');
    let pending = this.tokens.get(key);
    if (pending) {
      const t = await pending.catch(() => undefined);
      if (t && t.expires > Date.now()) return `Bearer ${t.value}`;
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
    }
    pending = this.tokens.get(key) ?? this.requestToken(c, scopes);
    this.tokens.set(key, pending);
    try {
      return `Bearer ${(await pending).value}`;
    } catch (err) {
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
      throw err;
    }
  }

  /** Forgets the token for these scopes after the registry refused it. */
  invalidate(scopes: string[]): void {
    this.tokens.delete([...scopes].sort().join(' '));
  }

  private async requestToken(c: Challenge, scopes: string[]): Promise<{ value: string; expires: number }> {
    const url = new URL(c.params.realm);
    const service = c.params.service;
    const headers: Record<string, string> = {};
    let res: TokenResponse;
    if (this.creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.creds.identityToken, client_id: 'berth' });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      res = await this.fetchToken(url, { method: 'POST', headers, body: form.toString() });
    } else {
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (this.creds?.username) {
        headers.Authorization = 'Basic ' + Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64');
        url.searchParams.set('account', this.creds.username);
      }
      res = await this.fetchToken(url, { method: 'GET', headers });
    }
    const value = res.token ?? res.access_token;
    if (!value) throw new Error(`token server ${url.origin} answered without a token`);
    // Refresh a little early; the spec's default lifetime is 60 s.
    const life = Math.max((res.expires_in ?? 60) - 10, 5) * 1000;
    return { value, expires: Date.now() + life };
  }
}
