// Clients (tenants) and their API tokens (only a token's hash is stored).
import { UnknownReferenceError } from '../../domain/errors.js';
import type { Client, NewToken, TokenRecord } from '../../domain/model.js';
import { newObjectId } from '../../domain/ids.js';
import { isoNow } from '../shared.js';
import type { ClientRepo, TokenRepo } from '../../domain/ports.js';
import type { Q, Scope } from './connection.js';
import { newTokenRecord, toClient, toToken } from '../rows.js';

/** Throws UnknownReferenceError unless `client` exists (FOR KEY SHARE: it cannot be deleted before commit). */
export async function requireClient(q: Q, client: string): Promise<void> {
  const { rows } = await q('SELECT 1 FROM clients WHERE id = $1 FOR KEY SHARE', [client]);
  if (rows.length === 0) throw new UnknownReferenceError('client', client);
}

export class PgClients implements ClientRepo {
  constructor(private readonly s: Scope) {}

  async create(name: string): Promise<Client> {
    const c: Client = { id: newObjectId(), name, createdAt: isoNow() };
    await this.s.write('client', (q) => q('INSERT INTO clients (id, name, created_at) VALUES ($1, $2, $3)', [c.id, c.name, c.createdAt]));
    return c;
  }

  async getByName(name: string): Promise<Client | null> {
    const { rows } = await this.s.read((q) => q('SELECT * FROM clients WHERE name = $1', [name]));
    return rows[0] ? toClient(rows[0]) : null;
  }

  async get(id: string): Promise<Client | null> {
    const { rows } = await this.s.read((q) => q('SELECT * FROM clients WHERE id = $1', [id]));
    return rows[0] ? toClient(rows[0]) : null;
  }

  async list(): Promise<Client[]> {
    const { rows } = await this.s.read((q) => q('SELECT * FROM clients ORDER BY ord'));
    return rows.map(toClient);
  }
}

export class PgTokens implements TokenRepo {
  constructor(private readonly s: Scope) {}

  async create(t: NewToken): Promise<TokenRecord> {
    const rec = newTokenRecord(t);
    await this.s.write('token', async (q) => {
      await requireClient(q, rec.client);
      await q('INSERT INTO tokens (id, client_id, hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        rec.id,
        rec.client,
        rec.hash,
        rec.label,
        rec.createdAt,
        rec.expiresAt,
      ]);
    });
    return rec;
  }

  async findByHash(hash: string): Promise<TokenRecord | null> {
    const { rows } = await this.s.read((q) => q('SELECT * FROM tokens WHERE hash = $1', [hash]));
    return rows[0] ? toToken(rows[0]) : null;
  }

  async list(client?: string): Promise<TokenRecord[]> {
    const { rows } = await this.s.read((q) =>
      client === undefined ? q('SELECT * FROM tokens ORDER BY ord') : q('SELECT * FROM tokens WHERE client_id = $1 ORDER BY ord', [client]),
    );
    return rows.map(toToken);
  }

  async revoke(id: string): Promise<boolean> {
    const { rowCount } = await this.s.write('token', (q) => q('UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [isoNow(), id]));
    return rowCount > 0;
  }
}
