// `npm run cli -- import SOURCE`: bulk enrolment from a folder, a CSV or a JSONL manifest (docs/import-export.md),
// into this DATA_DIR / DATABASE_URL through the domain's use case, or into a running server over HTTP (--url).
// Resumable (people already in are skipped), with a progress bar and a report of every refusal.
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { rebuildIndex, startIndexFollower } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import type { DomainDeps } from '../domain/deps.js';
import { importPerson, type ImportOutcome, type PhotoRefusal } from '../domain/importPersons.js';
import type { InputImage } from '../domain/faces.js';
import { createFaceEngine } from '../face/index.js';
import { createFaceIndex } from '../index/index.js';
import { DataDirLockedError, lockDataDir } from '../store/serverLock.js';
import type { Store } from '../domain/ports.js';
import { importArchiveCommand } from './archiveImport.js';
import { readSource, SourceError, type SourcePerson } from './importSources.js';
import { createProgress } from './progress.js';
import { RemoteTarget } from './remoteImport.js';
import { CliFailure, UsageError, type CommandContext } from './shared.js';


/** One line of the report: one per person, plus one per refused photo. */
interface ReportRow {
  outcome: 'imported' | 'would_import' | 'skipped' | 'refused' | 'photo_refused';
  reason: string;
  origin: string;
  name: string;
  external_id: string;
  photo: string;
  person_id: string;
  detail: string;
}

const REPORT_COLUMNS: (keyof ReportRow)[] = ['outcome', 'reason', 'origin', 'name', 'external_id', 'photo', 'person_id', 'detail'];

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The outcome of one person, whichever the target. */
export type PersonOutcome = ImportOutcome extends infer O ? (O extends { status: 'imported' } ? { status: 'imported'; personId: string; photos: number; refused: PhotoRefusal[] } : O) : never;

/** Where the people go: this store (the domain's use case) or a server's API. */
export interface ImportTarget {
  /** The photos of one person, read; collections as given (names, ids or codes). */
  importOne(p: SourcePerson, images: InputImage[], unreadable: PhotoRefusal[]): Promise<PersonOutcome>;
  close(): Promise<void>;
}

export interface ImportRunOptions {
  dryRun: boolean;
  duplicateMinScore: number | null;
  maxImages: number;
  maxImageBytes: number;
  concurrency: number;
}

/** Reads a person's photos: a missing file, or one over MAX_IMAGE_BYTES, is refused before any engine work. */
async function readPhotos(p: SourcePerson, maxBytes: number): Promise<{ images: InputImage[]; unreadable: PhotoRefusal[] }> {
  const images: InputImage[] = [];
  const unreadable: PhotoRefusal[] = [];
  for (const file of p.photos) {
    try {
      const s = await stat(file);
      if (s.size > maxBytes) {
        unreadable.push({ photo: file, reason: 'too_large', detail: `${s.size} bytes, more than MAX_IMAGE_BYTES (${maxBytes})` });
        continue;
      }
      images.push({ field: file, bytes: new Uint8Array(await readFile(file)) });
    } catch (e) {
      unreadable.push({ photo: file, reason: 'unreadable_file', detail: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
    }
  }
  return { images, unreadable };
}

/** The local target: the domain's import use case on this store, with the engine and an index of what is in. */
class LocalTarget implements ImportTarget {
  private readonly collectionIds = new Map<string, Promise<string>>();

  constructor(
    private readonly deps: DomainDeps,
    private readonly client: string,
    private readonly opts: ImportRunOptions,
    private readonly onClose: () => Promise<void>,
  ) {}

  /** A collection by `_id`, `code` or exact name; a name not found is created (in a dry run, only pretended). */
  private collection(ref: string): Promise<string> {
    let p = this.collectionIds.get(ref);
    if (!p) {
      p = (async () => {
        const store = this.deps.store;
        const byId = await store.collections.get(this.client, ref);
        if (byId) return byId.id;
        const named = (await store.collections.list(this.client, { page: 1, limit: 100, search: ref })).items.find((c) => c.name === ref);
        if (named) return named.id;
        if (this.opts.dryRun) return `(new collection ${ref})`;
        return (await store.collections.create({ client: this.client, name: ref, description: 'Created by npm run cli -- import' })).id;
      })();
      this.collectionIds.set(ref, p);
    }
    return p;
  }

  async importOne(p: SourcePerson, images: InputImage[], unreadable: PhotoRefusal[]): Promise<PersonOutcome> {
    const collections = await Promise.all(p.collections.map((c) => this.collection(c)));
    const { origin: _origin, photos: _photos, collections: _refs, ...fields } = p;
    const o = await importPerson(
      this.deps,
      this.client,
      { ...fields, collections: this.opts.dryRun ? [] : collections, images, unreadable },
      { dryRun: this.opts.dryRun, duplicateMinScore: this.opts.duplicateMinScore, maxImages: this.opts.maxImages },
    );
    return o.status === 'imported' ? { status: 'imported', personId: o.person.person.id, photos: o.photos, refused: o.refused } : o;
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

/** Opens this store, the engine and the index for a local import. */
async function localTarget(ctx: CommandContext, config: Config, clientName: string, opts: ImportRunOptions, workers: number): Promise<LocalTarget> {
  // One process writes a SQLite DATA_DIR: a running server would not see these enrolments in its index.
  let lock: { release(): void } | null = null;
  if (!ctx.databaseUrl) {
    try {
      lock = lockDataDir(ctx.dataDir);
    } catch (e) {
      if (e instanceof DataDirLockedError) {
        throw new CliFailure(
          `a Facegate server is running on DATA_DIR ${ctx.dataDir}: import through it (--url http://HOST:PORT --token TOKEN), or stop it first. ` +
            '(Its search index would not see people written beside it.)',
        );
      }
      throw e;
    }
  }
  const store = await ctx.openStore();
  let client = await store.clients.getByName(clientName);
  if (!client) {
    if (opts.dryRun) throw new CliFailure(`no client named "${clientName}" in ${ctx.where}`);
    client = await store.clients.create(clientName);
    ctx.io.err(`client ${clientName} created (${client.id})`);
  }
  const engine = createFaceEngine({ workers });
  const index = createFaceIndex({ dim: engine.dim });
  const log = pino({ level: 'silent' });
  let follower: Awaited<ReturnType<typeof startIndexFollower>> = null;
  try {
    await engine.ready();
    // What is enrolled already, for the duplicate check.
    const loaded = await rebuildIndex(store, index, engine.modelVersion);
    follower = await startIndexFollower(store, index, engine.modelVersion, loaded.cursor, log);
  } catch (e) {
    await engine.close();
    lock?.release();
    throw e;
  }
  const deps: DomainDeps = {
    store,
    engine,
    index,
    settings: { personVerificationTtlMs: config.personVerificationTtlMs, livenessMinScore: config.livenessMinScore, samePersonMinScore: config.samePersonMinScore },
    follower: follower ?? undefined,
  };
  return new LocalTarget(deps, client.id, opts, async () => {
    await follower?.stop?.();
    await engine.close();
    lock?.release();
  });
}

/** Runs `fn` over `items` with at most `limit` in flight, in order of start. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

export interface ImportSummary {
  people: number;
  imported: number;
  wouldImport: number;
  skipped: number;
  refused: number;
  photosRefused: number;
  byReason: Record<string, number>;
  report: string;
  seconds: number;
}

/** Imports `people` into `target`, writing the report as it goes. */
export async function runImport(
  ctx: Pick<CommandContext, 'io'>,
  target: ImportTarget,
  people: SourcePerson[],
  opts: ImportRunOptions & { reportFile: string },
): Promise<ImportSummary> {
  const report: WriteStream = createWriteStream(opts.reportFile, { flags: 'w', mode: 0o600 });
  report.write(`${REPORT_COLUMNS.join(',')}\n`);
  const row = (r: Partial<ReportRow>) => report.write(`${REPORT_COLUMNS.map((c) => csvField(String(r[c] ?? ''))).join(',')}\n`);
  const s: ImportSummary = { people: people.length, imported: 0, wouldImport: 0, skipped: 0, refused: 0, photosRefused: 0, byReason: {}, report: opts.reportFile, seconds: 0 };
  const t0 = Date.now();
  const progress = createProgress(ctx.io, people.length, 'people');
  const counts = () => `${opts.dryRun ? `${s.wouldImport} would import` : `${s.imported} imported`}, ${s.skipped} already in, ${s.refused} refused, ${s.photosRefused} photos refused`;
  let done = 0;
  await pool(people, opts.concurrency, async (p) => {
    const { images, unreadable } = await readPhotos(p, opts.maxImageBytes);
    const o = await target.importOne(p, images, unreadable);
    const base = { origin: p.origin, name: p.name, external_id: p.external_id ?? '' };
    const refusedPhotos = 'refused' in o ? o.refused : [];
    for (const r of refusedPhotos) {
      s.photosRefused++;
      s.byReason[r.reason] = (s.byReason[r.reason] ?? 0) + 1;
      row({ ...base, outcome: 'photo_refused', reason: r.reason, photo: r.photo, detail: r.detail ?? '' });
    }
    if (o.status === 'imported') {
      s.imported++;
      row({ ...base, outcome: 'imported', person_id: o.personId, detail: `${o.photos} photo(s)` });
    } else if (o.status === 'would_import') {
      s.wouldImport++;
      row({ ...base, outcome: 'would_import', detail: `${o.photos} photo(s)` });
    } else if (o.status === 'skipped') {
      s.skipped++;
      row({ ...base, outcome: 'skipped', reason: `already_in_by_${o.by}`, person_id: o.person });
    } else {
      s.refused++;
      s.byReason[o.reason] = (s.byReason[o.reason] ?? 0) + 1;
      row({ ...base, outcome: 'refused', reason: o.reason, person_id: o.duplicateOf?.id ?? '', detail: o.detail });
    }
    progress.update(++done, counts());
  });
  progress.finish(counts());
  await new Promise<void>((resolve, reject) => report.end((err?: Error | null) => (err ? reject(err) : resolve())));
  s.seconds = (Date.now() - t0) / 1000;
  return s;
}

function positiveInt(v: string | undefined, name: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${name} must be an integer from 1 to ${max}`);
  return n;
}

/** `import …` (see IMPORT_USAGE). */
export async function importCommand(args: string[], ctx: CommandContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        client: { type: 'string' },
        collection: { type: 'string', multiple: true },
        separator: { type: 'string' },
        'folder-ids': { type: 'boolean' },
        report: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'duplicate-min-score': { type: 'string' },
        'no-duplicate-check': { type: 'boolean' },
        workers: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        'from-archive': { type: 'string' },
        'passphrase-file': { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v['from-archive'] !== undefined) {
    if (parsed.positionals.length) throw new UsageError('import --from-archive takes no SOURCE');
    return importArchiveCommand(ctx, { file: v['from-archive'], client: v.client, passphraseFile: v['passphrase-file'] });
  }
  if (parsed.positionals.length !== 1) throw new UsageError('import needs one SOURCE: a folder, a .csv or a .jsonl file');
  const source = path.resolve(parsed.positionals[0]);
  let config: Config;
  try {
    config = loadConfig(ctx.io.env);
  } catch (e) {
    throw new CliFailure((e as Error).message);
  }
  let duplicateMinScore: number | null = 0.8;
  if (v['no-duplicate-check']) duplicateMinScore = null;
  else if (v['duplicate-min-score'] !== undefined) {
    duplicateMinScore = Number(v['duplicate-min-score']);
    if (!(duplicateMinScore >= 0.5 && duplicateMinScore <= 1)) throw new UsageError('--duplicate-min-score must be from 0.5 to 1');
  }
  if (v.url && !v.token) throw new UsageError('--url needs --token (a token of the client to import into)');
  if (!v.url && v.token) throw new UsageError('--token goes with --url');
  if (v.url && v.client) throw new UsageError('with --url the token says the client: leave --client out');
  const workers = positiveInt(v.workers, '--workers', 64) ?? config.engineWorkers;
  let people: SourcePerson[];
  let ignored: string[];
  try {
    ({ people, ignored } = await readSource(source, { separator: v.separator, keyAsExternalId: v['folder-ids'], collections: v.collection }));
  } catch (e) {
    if (e instanceof SourceError) throw new CliFailure(e.message);
    throw e;
  }
  const photos = people.reduce((n, p) => n + p.photos.length, 0);
  ctx.io.err(`${people.length} people, ${photos} photos in ${source}${ignored.length ? ` (${ignored.length} files that are not photos ignored)` : ''}`);
  const opts: ImportRunOptions = {
    dryRun: Boolean(v['dry-run']),
    duplicateMinScore,
    maxImages: config.maxImages,
    maxImageBytes: config.maxImageBytes,
    // Two people in flight per engine worker: one analysed while the other is read or written.
    concurrency: 2 * workers,
  };
  const stamp = (ctx.io.now?.() ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const reportFile = path.resolve(v.report ?? `import-report-${stamp}.csv`);
  let target: ImportTarget;
  if (v.url) {
    target = await RemoteTarget.connect({ url: v.url, token: v.token!, opts, log: (l) => ctx.io.err(l) });
    // The server's engine does the work; enough requests in flight to keep its workers busy.
    opts.concurrency = 2 * (positiveInt(v.workers, '--workers', 64) ?? 2);
    ctx.io.err(`into ${v.url}${opts.dryRun ? ' (dry run: nothing is written)' : ''}`);
  } else {
    const clientName = v.client ?? ctx.io.env.API_TOKEN_CLIENT ?? 'default';
    target = await localTarget(ctx, config, clientName, opts, workers);
    ctx.io.err(`into client ${clientName} of ${ctx.where}${opts.dryRun ? ' (dry run: nothing is written)' : ''}`);
  }
  let s: ImportSummary;
  try {
    s = await runImport(ctx, target, people, { ...opts, reportFile });
  } finally {
    await target.close();
  }
  const reasons = Object.entries(s.byReason)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  ctx.io.out(
    `${opts.dryRun ? `${s.wouldImport} would be imported` : `${s.imported} imported`}, ${s.skipped} already in, ${s.refused} refused, ` +
      `${s.photosRefused} photos refused${reasons ? ` (${reasons})` : ''}, of ${s.people} people in ${s.seconds.toFixed(1)} s`,
  );
  ctx.io.out(`report: ${s.report}`);
  return 0;
}
