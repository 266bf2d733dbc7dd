// Console sign-in sessions, held in the server's memory. The browser gets only a random session id in an httpOnly
// cookie; the bearer token it signed in with is never kept, only the hash the token table already stores, so every
// request re-checks that token (a revoked or expired token ends its sessions at once). A restart signs everyone
// out, which is the safe failure for an operator tool.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleSession {
  id: string;
  /** The tenant this session acts for. */
  client: string;
  clientName: string;
  /** SHA-256 of the bearer token it was opened with (as in the tokens table). */
  tokenHash: string;
  /** Sent back by the page in a header on every state-changing request (synchronizer token against CSRF). */
  csrf: string;
  expiresAt: number;
}

export interface SessionStoreOptions {
  /** Lifetime of a session, capped by its token's own expiry. */
  ttlMs: number;
  /** Most sessions held at once; the oldest are dropped beyond it (bounds memory against sign-in floods). */
  max?: number;
  now?: () => number;
}

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(opts: SessionStoreOptions) {
    this.ttlMs = opts.ttlMs;
    this.max = opts.max ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  open(s: { client: string; clientName: string; tokenHash: string; tokenExpiresAt: string | null }): ConsoleSession {
    this.sweep();
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const cap = s.tokenExpiresAt === null ? Infinity : Date.parse(s.tokenExpiresAt);
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      client: s.client,
      clientName: s.clientName,
      tokenHash: s.tokenHash,
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
