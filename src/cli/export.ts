// `npm run cli -- export FILE`: the portable archive of this server's people (src/domain/archive.ts), for
// `import --from-archive` on another server of either backend. Safe beside a running server (reads only).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ArchiveError, exportArchive, type ArchiveRecord } from '../domain/archive.js';
import { writeArchive } from './archiveFile.js';
import { CliFailure, UsageError, type CliIo, type CommandContext } from './shared.js';


/** The passphrase: the first line of --passphrase-file, else FACEGATE_ARCHIVE_PASSPHRASE. Never a command-line argument (ps would show it). */
export async function passphraseFrom(io: CliIo, file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new CliFailure(`cannot read --passphrase-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const line = text.split(/\r?\n/)[0];
    if (!line) throw new CliFailure(`--passphrase-file ${file} is empty`);
    return line;
  }
  return io.env.FACEGATE_ARCHIVE_PASSPHRASE || undefined;
}

export async function exportCommand(args: string[], ctx: CommandContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { client: { type: 'string', multiple: true }, encrypt: { type: 'boolean' }, 'passphrase-file': { type: 'string' }, 'scrypt-log-n': { type: 'string' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length !== 1) throw new UsageError('export needs one FILE to write');
  const file = path.resolve(parsed.positionals[0]);
  const v = parsed.values;
  let passphrase: string | undefined;
  if (v.encrypt) {
    passphrase = await passphraseFrom(ctx.io, v['passphrase-file']);
    if (!passphrase) throw new UsageError('--encrypt needs a passphrase: FACEGATE_ARCHIVE_PASSPHRASE or --passphrase-file FILE');
    if (passphrase.length < 12) throw new UsageError('the passphrase must have at least 12 characters (it guards biometric data)');
  } else if (v['passphrase-file']) throw new UsageError('--passphrase-file goes with --encrypt');
  // A lower scrypt cost, for tests only (the default, 2^18, takes about a second on purpose).
  const logN = v['scrypt-log-n'] === undefined ? undefined : Number(v['scrypt-log-n']);
  const store = await ctx.openStore();
  const counts = { persons: 0, templates: 0, collections: 0, clients: 0 };
  const t0 = Date.now();
  async function* counted(): AsyncGenerator<ArchiveRecord> {
    for await (const r of exportArchive(store, { clients: v.client, now: ctx.io.now?.() })) {
      if (r.type === 'end') Object.assign(counts, { persons: r.persons, templates: r.templates, collections: r.collections, clients: r.clients });
      else if (r.type === 'person' && ++counts.persons % 1000 === 0) ctx.io.err(`${counts.persons} persons written…`);
      yield r;
    }
  }
  try {
    await writeArchive(file, counted(), { passphrase, scryptLogN: logN });
  } catch (e) {
    if (e instanceof ArchiveError) throw new CliFailure(e.message);
    throw e;
  }
  ctx.io.out(
    `exported ${counts.persons} persons (${counts.templates} templates), ${counts.collections} collections of ${counts.clients} client(s) from ${ctx.where} ` +
      `to ${file}${passphrase ? ' (encrypted)' : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return 0;
}
