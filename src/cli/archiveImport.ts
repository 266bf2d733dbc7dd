// `npm run cli -- import --from-archive FILE`: an archive made by `export` (either backend) into this store. Templates
// of this server's model version are searchable at the next start; those of another version are re-embedded from
// the face images in the archive by `npm run cli -- reindex`, or by the server at its start (REINDEX_ON_START).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ArchiveError, importArchive } from '../domain/archive.js';
import { MODEL_VERSION } from '../face/version.js';
import { DataDirLockedError, lockDataDir } from '../store/serverLock.js';
import { ArchiveFileError, readArchive } from './archiveFile.js';
import { passphraseFrom } from './export.js';
import { CliFailure, type CommandContext } from './shared.js';

export async function importArchiveCommand(ctx: CommandContext, o: { file: string; client?: string; passphraseFile?: string }): Promise<number> {
  const file = path.resolve(o.file);
  if (!existsSync(file)) throw new CliFailure(`no archive at ${file}`);
  const passphrase = await passphraseFrom(ctx.io, o.passphraseFile);
  // The people land in the database only: a server running on a SQLite DATA_DIR would not see them in its index.
  let lock: { release(): void } | null = null;
  if (!ctx.databaseUrl) {
    try {
      lock = lockDataDir(ctx.dataDir);
    } catch (e) {
      if (e instanceof DataDirLockedError) throw new CliFailure(`a Facegate server is running on DATA_DIR ${ctx.dataDir}: stop it, import, then start it again`);
      throw e;
    }
  }
  try {
    const store = await ctx.openStore();
    // Only the model's version is needed (to say which templates need re-embedding): no engine is started.
    const modelVersion = MODEL_VERSION;
    const t0 = Date.now();
    let res;
    try {
      res = await importArchive(store, readArchive(file, { passphrase }), {
        modelVersion,
        clientName: o.client,
        onPerson: (n) => n % 1000 === 0 && ctx.io.err(`${n} persons read…`),
      });
    } catch (e) {
      if (e instanceof ArchiveError || e instanceof ArchiveFileError) throw new CliFailure(e.message);
      throw e;
    }
    ctx.io.out(
      `imported ${res.persons} persons (${res.templates} templates), ${res.collections} collections, into ${ctx.where} in ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `${res.skipped} already here, ${res.refused.length} refused`,
    );
    for (const r of res.refused) ctx.io.out(`  refused ${r.id} (client ${r.client}): ${r.reason}`);
    if (res.otherModel) ctx.io.out(`${res.otherModel} templates were made by another face model: run "npm run cli -- reindex" (or start the server) to re-embed them`);
    return res.refused.length ? 1 : 0;
  } finally {
    lock?.release();
  }
}
