// Chooses the backend: DATABASE_URL=postgres://… → PostgreSQL (many instances may share it); absent → SQLite in
// DATA_DIR (one server per folder, src/store/serverLock.ts).
import { openPgStore } from './postgres/store.js';
import { openSqliteStore } from './sqlite/store.js';
import type { Store } from '../domain/ports.js';

export interface StoreConfig {
  dataDir: string;
  /** postgres:// or postgresql:// URL; absent or empty → SQLite in dataDir. */
  databaseUrl?: string | null;
  /** PostgreSQL pool size. Default 10. */
  databasePoolSize?: number;
}

export function isPostgresUrl(url: string | null | undefined): url is string {
  return typeof url === 'string' && /^postgres(ql)?:\/\//i.test(url);
}

export async function openStore(config: StoreConfig): Promise<Store> {
  if (config.databaseUrl) {
    if (!isPostgresUrl(config.databaseUrl)) throw new Error('DATABASE_URL must start with postgres:// or postgresql://');
    return openPgStore({ connectionString: config.databaseUrl, poolSize: config.databasePoolSize });
  }
  return openSqliteStore({ dataDir: config.dataDir });
}
