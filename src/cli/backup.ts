// `npm run cli -- backup DIR`: a consistent copy of a running server's SQLite store, taken with SQLite's online
// backup API (better-sqlite3's db.backup): pages are copied while the server keeps writing, and the copy is one
// committed state of the database, which a file copy of a WAL-mode database is not. DIR then holds what DATA_DIR
// must keep (facegate.db and signing-key.json): start a server with DATA_DIR=DIR to restore. PostgreSQL has its
// own procedure (pg_dump / base backups): docs/deploy.md.
import { copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { RETIRED_KEYS_FILE, SIGNING_KEY_FILE } from '../http/signing.js';
import { DB_FILE_NAME } from '../store/sqlite/store.js';
import { CliFailure, UsageError, type CommandContext } from './shared.js';



/** Copies `source` (a SQLite database in use or not) to `dest` through the online backup API; checks the copy. */
export async function backupSqlite(source: string, dest: string, onProgress?: (share: number) => void): Promise<{ pages: number }> {
  const db = new Database(source, { fileMustExist: true, timeout: 5000 });
  let pages = 0;
  const tmp = `${dest}.partial`;
  try {
    await db.backup(tmp, {
      progress: ({ totalPages, remainingPages }) => {
        pages = totalPages;
        onProgress?.(totalPages ? (totalPages - remainingPages) / totalPages : 1);
        // Pages per step: large enough to finish, small enough that the server's writers get the lock in between.
        return 1000;
      },
    });
  } finally {
    db.close();
  }
  const copy = new Database(tmp, { fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new CliFailure(`the copy failed its integrity check: ${String(check)}`);
  } finally {
    copy.close();
  }
  await rename(tmp, dest);
  return { pages };
}

export async function backupCommand(args: string[], ctx: CommandContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length !== 1) throw new UsageError('backup needs one DIR to write the copy into');
  if (ctx.databaseUrl) {
    throw new CliFailure(
      'DATABASE_URL is set: back PostgreSQL up with its own tools (pg_dump, or base backups with WAL archiving), as docs/deploy.md ("Backup and restore") describes and drills. ' +
        'This command copies a SQLite DATA_DIR.',
    );
  }
  const source = path.resolve(ctx.dataDir, DB_FILE_NAME);
  if (!existsSync(source)) throw new CliFailure(`no database at ${source} (is DATA_DIR right? it is "${ctx.dataDir}")`);
  const dir = path.resolve(parsed.positionals[0]);
  if (path.resolve(ctx.dataDir) === dir) throw new UsageError('DIR must not be DATA_DIR itself');
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new CliFailure(`${dir} is not empty: give a new or empty folder`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const t0 = Date.now();
  let last = 0;
  try {
    const { pages } = await backupSqlite(source, path.join(dir, DB_FILE_NAME), (share) => {
      if (Date.now() - last < 2000) return;
      last = Date.now();
      ctx.io.err(`${Math.round(share * 100)}% copied`);
    });
    // The response-signing key (and the retired ones, still published) so that answers keep verifying after a restore.
    for (const f of [SIGNING_KEY_FILE, RETIRED_KEYS_FILE]) {
      if (existsSync(path.resolve(ctx.dataDir, f))) await copyFile(path.resolve(ctx.dataDir, f), path.join(dir, f));
    }
    const key = path.resolve(ctx.dataDir, SIGNING_KEY_FILE);
    ctx.io.out(`backed up ${source} (${pages} pages) and ${existsSync(key) ? 'its signing key' : 'no signing key (none yet)'} to ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    ctx.io.out(`restore: start the server with DATA_DIR=${dir}`);
    return 0;
  } catch (e) {
    await rm(path.join(dir, `${DB_FILE_NAME}.partial`), { force: true });
    throw e;
  }
}
