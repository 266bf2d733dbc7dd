// Operators' command line: `npm run cli -- tokens create --client acme --ttl 30d` (or `node dist/src/cli.js …`).
// Safe while the server runs on the same DATA_DIR: both open the database in WAL mode with a busy timeout, and the
// CLI's writes are single short transactions. It never creates a database unless told to (`--create`): a token
// written into a new, empty database on a mistyped DATA_DIR would be one the server has never heard of.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { reindexTemplates } from './domain/reindex.js';
import { createFaceEngine } from './face/index.js';
import { AUDIT_REPORT_COLUMNS, auditReport, cliEvent, csvLine, exportAudit } from './domain/audit.js';
import { issueToken, revokeToken } from './domain/tokens.js';
import { rotateSharedKey, rotateSigningKey } from './http/signing.js';
import { openStore } from './store/open.js';
import { openSqliteStore, resolveDbFile } from './store/sqlite/store.js';
import type { Store, TokenRecord } from './domain/ports.js';

export const USAGE = `Usage: npm run cli -- <command>

  tokens create --client NAME [--ttl 30d|12h|15m] [--label TEXT] [--create]
      Issues a token for client NAME (created if missing). The secret is printed once, as the last line of stdout
      (send it as "Authorization: Bearer <secret>"); its id (for list and revoke) goes to stderr.
      Without --ttl the token never expires. The database must exist (the server creates it on its first start);
      --create makes a new one in DATA_DIR instead.
  tokens list [--client NAME]
      Lists tokens (never their secrets; only the first 8 hex chars of their hashes).
  tokens revoke ID
      Revokes a token at once.
  clients list
      Lists clients.
  reindex [--workers N]
      Re-embeds every template made by an earlier face model from the face image stored with it, with a progress
      bar and the time left. Resumable: stop it any time, the next run goes on where it stopped. The server does
      the same by itself at start-up (REINDEX_ON_START); run this first to have every person searchable at once.
  keys rotate
      Replaces the response-signing key (the server uses the new one from its next start). The old public key stays
      in /.well-known/jwks.json, so answers signed with it keep verifying.
  audit export --since ISO-DATE
      Prints the audit trail from that date on (e.g. 2026-01-31 or 2026-01-31T12:00:00Z), one JSON object a line,
      oldest first: seq, at, client, token, via, request, callerRequest, route, action, outcome, status, subject,
      details.
  audit report --since ISO-DATE [--until ISO-DATE] [--client NAME] [--person ID] [--format csv|jsonl]
      The trail as a regulator reads it: who (tenant name, token id and label, api/console/operator) did what
      (enrolled, searched, verified, erased…) to whom (every person id the event is about: the one enrolled or
      erased, each candidate a search returned), when, with what outcome. --person ID: only the events about that
      person. CSV (the default) has a header line.

Environment: DATA_DIR (default ./data) - the same folder the server uses; DATABASE_URL (postgres://…) - the
PostgreSQL database the server uses, when it uses one.
Exit status: 0 done, 1 failed, 2 bad usage.`;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  now?: () => Date;
}

class UsageError extends Error {}
class CliFailure extends Error {}

function tokenStatus(t: TokenRecord, now: Date): 'active' | 'expired' | 'revoked' {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now.getTime()) return 'expired';
  return 'active';
}

/** `[#####.....] 45% 450/1000, 1m20s left, …` for a progress report on stderr. */
export function progressLine(done: number, total: number, elapsedMs: number, extra = ''): string {
  const share = total ? done / total : 1;
  const bar = '#'.repeat(Math.round(share * 30)).padEnd(30, '.');
  const left = done ? Math.round(((total - done) * elapsedMs) / done / 1000) : NaN;
  const eta = Number.isFinite(left) ? `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s left` : 'estimating';
  return `[${bar}] ${Math.round(share * 100)}% ${done}/${total}, ${eta}${extra ? `, ${extra}` : ''}`;
}

/** Left-aligned columns, for humans; fields never contain tabs or newlines worth keeping. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(positionals === 0 ? `unexpected argument "${parsed.positionals[0]}"` : `expected ${positionals} argument(s)`);
  }
  return parsed as { values: Record<string, string | undefined>; positionals: string[] };
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

/** Runs one CLI command; returns the exit status. Never calls process.exit (tests call it in-process). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const now = io.now ?? (() => new Date());
  const [group, command, ...rest] = argv;
  if (group === undefined || group === 'help' || group === '--help' || group === '-h') {
    io.out(USAGE);
    return group === undefined ? 2 : 0;
  }
  const dataDir = io.env.DATA_DIR || './data';
  let store: Store | undefined;
  const file = path.resolve(resolveDbFile({ dataDir }));
  // DATABASE_URL as the server reads it: postgres://… → the PostgreSQL store (which always exists once a server
  // has started on it: migrations make it), else SQLite in DATA_DIR.
  const databaseUrl = io.env.DATABASE_URL?.trim() || null;
  const where = databaseUrl ? redactUrl(databaseUrl) : file;
  const exists = (): boolean => (databaseUrl ? true : existsSync(file));
  const openCliStore = async (mayCreate = false): Promise<Store> => {
    if (databaseUrl) {
      store = await openStore({ dataDir, databaseUrl, databasePoolSize: 2 });
      return store;
    }
    if (!mayCreate && !existsSync(file)) {
      throw new CliFailure(
        `no database at ${file} (is DATA_DIR right? it is "${dataDir}"). The server creates it on its first start; ` +
          'run this with the DATA_DIR the server uses, or add --create to tokens create to make a new database here.',
      );
    }
    store = openSqliteStore({ dataDir });
    return store;
  };

  try {
    // Single-word commands take every argument after them.
    const key = group === 'reindex' ? group : `${group} ${command ?? ''}`.trim();
    switch (key) {
      case 'tokens create': {
        const { values } = parse(rest, { client: { type: 'string' }, ttl: { type: 'string' }, label: { type: 'string' }, create: { type: 'boolean' } }, 0);
        if (!values.client) throw new UsageError('--client NAME is required');
        const created = !exists();
        const s = await openCliStore(Boolean(values.create));
        let issued;
        try {
          issued = await issueToken(s, { clientName: values.client, ttl: values.ttl, label: values.label, now: now() });
        } catch (e) {
          if (e instanceof RangeError) throw new UsageError(e.message);
          throw e;
        }
        io.err(`database: ${where}${created ? ' (created now)' : ''}`);
        io.err(`client:   ${issued.client.name} (${issued.client.id})`);
        io.err(`token id: ${issued.record.id}${issued.record.label ? ` (${issued.record.label})` : ''}  <- for "tokens list" and "tokens revoke"; not a credential`);
        io.err(`expires:  ${issued.record.expiresAt ?? 'never'}`);
        io.err('secret:   the line below, shown once (stored only as a hash); send it as "Authorization: Bearer <secret>"');
        io.out(issued.token);
        return 0;
      }
      case 'tokens list': {
        const { values } = parse(rest, { client: { type: 'string' } }, 0);
        const s = await openCliStore();
        const clients = new Map((await s.clients.list()).map((c) => [c.id, c.name]));
        let clientId: string | undefined;
        if (values.client !== undefined) {
          const c = await s.clients.getByName(values.client);
          if (!c) throw new CliFailure(`no client named "${values.client}"`);
          clientId = c.id;
        }
        const tokens = await s.tokens.list(clientId);
        if (tokens.length === 0) {
          io.err('no tokens');
          return 0;
        }
        const at = now();
        const rows = [['ID', 'CLIENT', 'STATUS', 'CREATED', 'EXPIRES', 'HASH', 'LABEL']];
        for (const t of tokens) {
          rows.push([
            t.id,
            clients.get(t.client) ?? t.client,
            tokenStatus(t, at),
            t.createdAt,
            t.revokedAt ? `revoked ${t.revokedAt}` : (t.expiresAt ?? 'never'),
            `${t.hash.slice(0, 8)}…`,
            t.label ?? '',
          ]);
        }
        for (const line of table(rows)) io.out(line);
        return 0;
      }
      case 'tokens revoke': {
        const { positionals } = parse(rest, {}, 1);
        const s = await openCliStore();
        if (!(await revokeToken(s, positionals[0]))) throw new CliFailure(`no active token with id ${positionals[0]}`);
        io.out(`revoked ${positionals[0]}`);
        return 0;
      }
      case 'reindex': {
        const { values } = parse(command === undefined ? rest : [command, ...rest], { workers: { type: 'string' } }, 0);
        const workers = values.workers === undefined ? undefined : Number(values.workers);
        if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64)) throw new UsageError('--workers must be an integer from 1 to 64');
        const s = await openCliStore();
        const engine = createFaceEngine({ workers });
        try {
          await engine.ready();
          const t0 = Date.now();
          const res = await reindexTemplates(s, engine, {
            batch: 4 * (workers ?? 1),
            onProgress: (p) => io.err(progressLine(p.done, p.total, Date.now() - t0, `${p.failed} failed`)),
          });
          if (res.total === 0) io.out(`every template is already made by ${engine.modelVersion}`);
          else io.out(`re-embedded ${res.reembedded} of ${res.total} templates with ${engine.modelVersion}; ${res.failed} failed`);
          for (const f of res.failures) io.out(`  template ${f.templateId} of ${f.person} (client ${f.client}): ${f.reason.replace(/_/g, ' ')}: re-enrol this person`);
          return res.failed ? 1 : 0;
        } finally {
          await engine.close();
        }
      }
      case 'clients list': {
        parse(rest, {}, 0);
        const s = await openCliStore();
        const clients = await s.clients.list();
        if (clients.length === 0) {
          io.err('no clients');
          return 0;
        }
        const active = new Map<string, number>();
        const at = now();
        for (const t of await s.tokens.list()) {
          if (tokenStatus(t, at) === 'active') active.set(t.client, (active.get(t.client) ?? 0) + 1);
        }
        const rows = [['ID', 'NAME', 'CREATED', 'ACTIVE TOKENS']];
        for (const c of clients) rows.push([c.id, c.name, c.createdAt, String(active.get(c.id) ?? 0)]);
        for (const line of table(rows)) io.out(line);
        return 0;
      }
      case 'keys rotate': {
        parse(rest, {}, 0);
        const s = await openCliStore();
        // A shared database holds the key set of every instance; they switch to the new key within 10 s.
        const shared = s.backend === 'postgres';
        const r = shared ? await rotateSharedKey(s.signingKeys) : await rotateSigningKey(dataDir);
        await s.audit.append(cliEvent('cli keys rotate', 'signing_key.rotate', { client: null, subject: r.current, details: { retired: r.retired } }));
        io.out(`signing key ${r.current} in use ${shared ? 'by every instance within 10 s' : 'from the next start'}${r.retired ? `; ${r.retired} retired (still published)` : ''}`);
        return 0;
      }
      case 'audit export': {
        const { values } = parse(rest, { since: { type: 'string' } }, 0);
        if (!values.since) throw new UsageError('--since ISO-DATE is required');
        const t = Date.parse(values.since);
        if (!/^\d{4}-\d{2}-\d{2}/.test(values.since) || Number.isNaN(t)) throw new UsageError(`--since must be an ISO 8601 date (got "${values.since}")`);
        const s = await openCliStore();
        for await (const e of exportAudit(s, new Date(t).toISOString())) io.out(JSON.stringify(e));
        return 0;
      }
      case 'audit report': {
        const { values } = parse(rest, { since: { type: 'string' }, until: { type: 'string' }, client: { type: 'string' }, person: { type: 'string' }, format: { type: 'string' } }, 0);
        const date = (name: string, v: string | undefined) => {
          if (v === undefined) return undefined;
          const ms = Date.parse(v);
          if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(ms)) throw new UsageError(`--${name} must be an ISO 8601 date (got "${v}")`);
          return new Date(ms).toISOString();
        };
        const since = date('since', values.since);
        if (!since) throw new UsageError('--since ISO-DATE is required');
        const format = values.format ?? 'csv';
        if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl (got "${format}")`);
        const s = await openCliStore();
        if (format === 'csv') io.out(csvLine([...AUDIT_REPORT_COLUMNS]));
        for await (const row of auditReport(s, { since, until: date('until', values.until), tenant: values.client, person: values.person })) {
          io.out(format === 'csv' ? csvLine(AUDIT_REPORT_COLUMNS.map((c) => row[c])) : JSON.stringify(row));
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${key}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`error: ${e.message}`);
      io.err(USAGE);
      return 2;
    }
    io.err(`error: ${e instanceof CliFailure ? e.message : String((e as Error)?.message ?? e)}`);
    return 1;
  } finally {
    await store?.close();
  }
}

function isMainModule(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
  }
}

if (isMainModule()) {
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  });
  process.exitCode = code;
}
