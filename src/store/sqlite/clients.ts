// Clients (tenants) and their API tokens (only a token's hash is stored).
import { UnknownReferenceError } from '../../domain/errors.js';
import type { Client, NewToken, TokenRecord } from '../../domain/model.js';
import { newObjectId } from '../../domain/ids.js';
import { isoNow } from '../shared.js';
import type { ClientRepo, TokenRepo } from '../../domain/ports.js';
import type { Query, Row, Scope } from './connection.js';
import { newTokenRecord, toClient, toToken } from '../rows.js';

/** Throws UnknownReferenceError unless `client` exists. */
export function requireClient(q: Query, client: string): void {
  if (!q('SELECT 1 FROM clients WHERE id = ?').get(client)) throw new UnknownReferenceError('client', client);
}

export class SqliteClients implements ClientRepo {
  constructor(private readonly s: Scope) {}

  async create(name: string): Promise<Client> {
    const c: Client = { id: newObjectId(), name, createdAt: isoNow() };
    await this.s.write('client', (q) => q('INSERT INTO clients (id, name, created_at) VALUES (?, ?, ?)').run(c.id, c.name, c.createdAt));
    return c;
  }

  async getByName(name: string): Promise<Client | null> {
    return this.s.read((q) => {
      const r = q('SELECT * FROM clients WHERE name = ?').get(name) as Row | undefined;
      return r ? toClient(r) : null;
    });
  }

  async get(id: string): Promise<Client | null> {
    return this.s.read((q) => {
      const r = q('SELECT * FROM clients WHERE id = ?').get(id) as Row | undefined;
      return r ? toClient(r) : null;
    });
  }

  async list(): Promise<Client[]> {
    return this.s.read((q) => (q('SELECT * FROM clients ORDER BY rowid').all() as Row[]).map(toClient));
  }
}

export class SqliteTokens implements TokenRepo {
  constructor(private readonly s: Scope) {}

  async create(t: NewToken): Promise<TokenRecord> {
    const rec = newTokenRecord(t);
    await this.s.write('token', (q) => {
      requireClient(q, rec.client);
      q('INSERT INTO tokens (id, client_id, hash, label, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(
        rec.id,
        rec.client,
        rec.hash,
        rec.label,
        rec.createdAt,
        rec.expiresAt,
      );
    });
    return rec;
  }

  async findByHash(hash: string): Promise<TokenRecord | null> {
    return this.s.read((q) => {
      const r = q('SELECT * FROM tokens WHERE hash = ?').get(hash) as Row | undefined;
      return r ? toToken(r) : null;
    });
  }

  async list(client?: string): Promise<TokenRecord[]> {
    return this.s.read((q) => {
      const rows =
        client === undefined
          ? (q('SELECT * FROM tokens ORDER BY rowid').all() as Row[])
          : (q('SELECT * FROM tokens WHERE client_id = ? ORDER BY rowid').all(client) as Row[]);
      return rows.map(toToken);
    });
  }

  async revoke(id: string): Promise<boolean> {
    return this.s.write('token', (q) => q('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(isoNow(), id).changes > 0);
  }
}
