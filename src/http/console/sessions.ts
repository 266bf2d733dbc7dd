// Console sign-in sessions, held in the server's memory. The browser gets only a random session id in an httpOnly
// cookie; the bearer token it signed in with is never kept, only the hash the token table already stores, so every
// request re-checks that token (a revoked or expired token ends its sessions at once). A restart signs everyone
// out, which is the safe failure for an operator tool.
//
// Bounds: one session per token (signing in again ends the one before), at most `maxPerClient` per tenant (that
// tenant's oldest ends), and at most `max` in all, beyond which sign-in is refused: a flood of sign-ins by one tenant
// ends only that tenant's own sessions, never everyone's.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleSession {
  id: string;
  /** The tenant this session acts for. */
  client: string;
  clientName: string;
  /** SHA-256 of the bearer token it was opened with (as in the tokens table). */
  tokenHash: string;
  /** Id of that token: what the audit trail and the rate limit know the session's requests by. */
  tokenId: string;
  /** Sent back by the page in a header on every state-changing request (synchronizer token against CSRF). */
  csrf: string;
  expiresAt: number;
}

export interface SessionStoreOptions {
  /** Lifetime of a session, capped by its token's own expiry. */
  ttlMs: number;
  /** Most sessions held at once; sign-in is refused beyond it (SessionsFullError), nobody is signed out. */
  max?: number;
  /** Most sessions of one tenant; its oldest ends when it opens one more. */
  maxPerClient?: number;
  now?: () => number;
}

/** Every session slot is taken (by tenants within their own caps): sign-in waits for sessions to expire or end. */
export class SessionsFullError extends Error {
  override readonly name = 'SessionsFullError';
}

export const DEFAULT_MAX_SESSIONS = 10_000;
export const DEFAULT_MAX_SESSIONS_PER_CLIENT = 20;

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly maxPerClient: number;
  private readonly now: () => number;

  constructor(opts: SessionStoreOptions) {
    this.ttlMs = opts.ttlMs;
    this.max = opts.max ?? DEFAULT_MAX_SESSIONS;
    this.maxPerClient = opts.maxPerClient ?? DEFAULT_MAX_SESSIONS_PER_CLIENT;
    this.now = opts.now ?? Date.now;
  }

  open(s: { client: string; clientName: string; tokenHash: string; tokenId: string; tokenExpiresAt: string | null }): ConsoleSession {
    this.sweep();
    // Signing in again with a token ends the session it opened before (a stolen cookie stops working).
    for (const [id, old] of this.sessions) if (old.tokenHash === s.tokenHash) this.sessions.delete(id);
    // Map order is insertion order: the first of this tenant's sessions is its oldest.
    const own = [...this.sessions.values()].filter((x) => x.client === s.client);
    for (let i = 0; i <= own.length - this.maxPerClient; i++) this.sessions.delete(own[i].id);
    if (this.sessions.size >= this.max) throw new SessionsFullError('console_sessions_full: every console session slot is in use; try again later');
    const cap = s.tokenExpiresAt === null ? Infinity : Date.parse(s.tokenExpiresAt);
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      client: s.client,
      clientName: s.clientName,
      tokenHash: s.tokenHash,
      tokenId: s.tokenId,
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: Math.min(this.now() + this.ttlMs, cap),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id, or null (unknown, or past its expiry: then it is forgotten). */
  get(id: string | undefined): ConsoleSession | null {
    if (!id) return null;
    const s = this.sessions.get(id);
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return null;
    }
    return s;
  }

  close(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** How many live sessions a tenant holds. */
  countFor(client: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.client === client && s.expiresAt > this.now()) n++;
    return n;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(session: ConsoleSession, header: unknown): boolean {
  if (typeof header !== 'string') return false;
  const a = Buffer.from(header);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
