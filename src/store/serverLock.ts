// One server per DATA_DIR. Each server keeps its own vector index in memory, filled from the database at start-up
// and updated by its own writes only, so a second server on the same SQLite file would answer searches that miss
// the first one's enrolments. The lock is an exclusive SQLite lock on a small file of its own (`server.lock`):
// the operating system drops it when the process ends, however it ends (SIGKILL, a crash, a power cut), so a
// stale lock cannot keep the next start out. `server.pid` beside it only says who holds the lock, for the message.
// The token CLI never takes this lock: it is meant to run beside the server (src/cli.ts).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE_NAME = 'server.lock';
export const PID_FILE_NAME = 'server.pid';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holder: string | null,
  ) {
    super(
      `another Facegate server${holder ? ` (${holder})` : ''} is using DATA_DIR ${dataDir}. ` +
        'With the embedded SQLite store only one server process may use a data directory: each keeps its own search ' +
        'index in memory, so a second one would miss the first one\'s enrolments. Stop the other server first, or give ' +
        'this one its own DATA_DIR (and PORT). The token CLI (npm run cli) needs no server stopped: it runs beside one.',
    );
  }
}

export interface ServerLock {
  release(): void;
}

/** Takes the data directory's server lock, or throws DataDirLockedError naming the holder. `dataDir` must exist. */
export function lockDataDir(dataDir: string): ServerLock {
  const dir = path.resolve(dataDir);
  const lockFile = path.join(dir, LOCK_FILE_NAME);
  const pidFile = path.join(dir, PID_FILE_NAME);
  const db = new Database(lockFile, { timeout: 0 });
  try {
    // EXCLUSIVE locking mode keeps the lock of the first write until the connection closes, i.e. until this
    // process ends; a second process's write fails at once with SQLITE_BUSY.
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS server_lock (taken_at TEXT NOT NULL)');
    db.prepare('INSERT INTO server_lock (taken_at) VALUES (?)').run(new Date().toISOString());
    db.exec('DELETE FROM server_lock');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY' || (err as { code?: string }).code === 'SQLITE_LOCKED') {
      throw new DataDirLockedError(dir, readHolder(pidFile));
    }
    throw err;
  }
  writeFileSync(pidFile, `pid ${process.pid} on ${hostname()}, started ${new Date().toISOString()}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      rmSync(pidFile, { force: true });
      db.close();
    },
  };
}

function readHolder(pidFile: string): string | null {
  try {
    return readFileSync(pidFile, 'utf8').trim().slice(0, 200) || null;
  } catch {
    return null;
  }
}
