import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/store.js';
import type { FacePerson } from '../../src/domain/ports.js';

/** A fresh data dir per test; removed afterwards. */
export function tempDir(prefix = 'facegate-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function openTemp(extra: Partial<SqliteStoreOptions> = {}): { store: SqliteStore; dir: string; cleanup: () => Promise<void> } {
  const t = tempDir();
  const store = openSqliteStore({ dataDir: t.dir, ...extra } as SqliteStoreOptions);
  return {
    store,
    dir: t.dir,
    cleanup: async () => {
      await store.close();
      t.cleanup();
    },
  };
}

export function personInput(client: string, name: string, collections: string[] = []): Omit<FacePerson, 'id' | 'createdAt' | 'updatedAt'> {
  return { client, name, gender: null, dateOfBirth: null, nationality: null, notes: null, collections };
}

/** A deterministic, recognisable embedding. */
export function embedding(seed: number, dim = 128): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sin(seed * 1000 + i) / (i + 1);
  return v;
}

/** A generic `/v2/persons` record of `client`. */
export function recordInput(client: string) {
  return {
    client,
    firstName: 'John',
    lastName: 'Doe',
    email: 'john@example.com',
    phone: '+1234567890',
    dateOfBirth: '1990-01-15',
    documentType: 'passport',
    documentNumber: '123456789',
    livenessScore: null,
    verificationStatus: 'pending' as const,
  };
}
