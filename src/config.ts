// Runtime configuration, read once from the environment and validated up front so that a typo fails at start-up
// with a message naming the variable, not later in a request.
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SAME_PERSON_MIN_SCORE } from './domain/deps.js';
import { DEFAULT_SESSION_FLOORS } from './domain/livenessSessions.js';
import { DEFAULT_LIVENESS_MIN_SCORE } from './domain/thresholds.js';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Maximum JSON body size in bytes. */
  bodyLimit: number;
  /** When set, `Authorization: Bearer <apiToken>` is valid for `apiTokenClient`. */
  apiToken: string | null;
  apiTokenClient: string;
  engineWorkers: number;
  /** Maximum analysis jobs waiting for a worker before requests get 503. */
  engineQueue: number;
  /** ONNX Runtime intra-op threads per engine worker; 0: cores ÷ workers. */
  engineThreads: number;
  /** Age in milliseconds after which a generic person's `verified` status is reported as `expired`. */
  personVerificationTtlMs: number;
  /** Liveness score a `/v2/persons/liveness` capture needs to be `verified` when the request gives none. */
  livenessMinScore: number;
  /** Floors no liveness session may go below, whatever its creator asks: passive score, number of steps. */
  livenessSessionMinScore: number;
  livenessSessionMinSteps: number;
  /** Stricter floors for some clients (by client name), on top of the server's. */
  livenessSessionTenantFloors: Record<string, { minScore?: number; minSteps?: number }>;
  /** Most images one request may carry. */
  maxImages: number;
  /** Largest decoded image, in bytes. */
  maxImageBytes: number;
  /**
   * Which X-Forwarded-* entries to believe (behind reverse proxies): false (none: the socket's address), a number of
   * proxy hops in front of the server (the client is that many entries from the right of X-Forwarded-For; entries
   * further left were written by the caller and are ignored), or the proxies' addresses/CIDRs. Never "all": a
   * caller could then pick its own address (and its own rate-limit bucket) with every request.
   */
  trustProxy: false | number | string[];
  /** Re-embed templates of an earlier model version in the background at start-up (the model-upgrade path). */
  reindexOnStart: boolean;
  /** Show liveness sub-scores in answers and error messages (they help an attacker tune a spoof cue by cue). */
  livenessDetails: boolean;
  /** Analysis jobs one client may have waiting for a worker (the rest of ENGINE_QUEUE stays open to others). */
  engineQueuePerClient: number;
  /** Requests one token may make per `rateLimitWindowMs` on /v2 routes; 0 turns the limit off. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** Match score every pair of images in one enrolment must reach: one enrolment, one person. */
  samePersonMinScore: number;
  /** Days the audit trail keeps an event; older ones are pruned every few hours. */
  auditRetentionDays: number;
  /** DATABASE_URL: postgres://… puts the store in PostgreSQL (many instances may share it); null: SQLite in dataDir. */
  databaseUrl: string | null;
  /** PostgreSQL connections per instance. */
  databasePoolSize: number;
  /**
   * METRICS_TOKEN: `GET /metrics` answers only `Authorization: Bearer <metricsToken>` (Prometheus' `authorization`
   * scrape setting); null: /metrics is off (404). Metrics span every tenant, so they are never open.
   */
  metricsToken: string | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "25mb", "512kb", "1048576" → bytes. */
export function parseSize(value: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!m) return null;
  return Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]);
}

/** "365d", "12h", "30m", "45s", "500ms", or a bare number of seconds → milliseconds. */
export function parseDuration(value: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!m) return null;
  return Math.floor(Number(m[1]) * DURATION_UNITS[(m[2] ?? 's').toLowerCase()]);
}

/**
 * LIVENESS_SESSION_TENANT_FLOORS: `{"acme": {"min_score": 0.5, "min_steps": 3}, …}`, client names to floors that only
 * raise the server's for that client's sessions.
 */
function tenantFloors(raw: string | undefined, problems: string[]): Config['livenessSessionTenantFloors'] {
  if (raw === undefined || raw.trim() === '') return {};
  const bad = () => (problems.push(`LIVENESS_SESSION_TENANT_FLOORS must be JSON such as {"acme": {"min_score": 0.5, "min_steps": 3}} (got "${raw}")`), {});
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return bad();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return bad();
  const out: Config['livenessSessionTenantFloors'] = {};
  for (const [client, f] of Object.entries(parsed as Record<string, unknown>)) {
    const { min_score: minScore, min_steps: minSteps, ...rest } = (f ?? {}) as Record<string, unknown>;
    const scoreOk = minScore === undefined || (typeof minScore === 'number' && minScore >= 0 && minScore <= 1);
    const stepsOk = minSteps === undefined || (Number.isInteger(minSteps) && (minSteps as number) >= 1 && (minSteps as number) <= 6);
    if (typeof f !== 'object' || f === null || Object.keys(rest).length > 0 || !scoreOk || !stepsOk) return bad();
    out[client] = { ...(minScore !== undefined ? { minScore: minScore as number } : {}), ...(minSteps !== undefined ? { minSteps: minSteps as number } : {}) };
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? fallback : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = str(name, String(fallback));
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const num = (name: string, fallback: number, min: number, max: number) => {
    const raw = str(name, String(fallback));
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      problems.push(`${name} must be a number between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const size = (name: string, fallback: string, min: number) => {
    const raw = str(name, fallback);
    const n = parseSize(raw);
    if (n === null || n < min) {
      problems.push(`${name} must be a size such as 25mb, 512kb or a number of bytes, at least ${min} (got "${raw}")`);
      return parseSize(fallback)!;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean) => {
    const raw = str(name, fallback ? 'true' : 'false').toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };

  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

  const logLevel = str('LOG_LEVEL', 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const ttlRaw = str('PERSON_VERIFICATION_TTL', '365d');
  const ttl = parseDuration(ttlRaw);
  if (ttl === null || ttl <= 0) problems.push(`PERSON_VERIFICATION_TTL must be a duration such as 365d, 12h or 30m (got "${ttlRaw}")`);

  const apiToken = env.API_TOKEN?.trim() || null;
  // A short shared secret is guessable; tokens issued by the CLI are far longer.
  if (apiToken !== null && apiToken.length < 16) problems.push('API_TOKEN must be at least 16 characters long');

  const apiTokenClient = str('API_TOKEN_CLIENT', 'default');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(apiTokenClient)) {
    problems.push(`API_TOKEN_CLIENT must be 1-64 letters, digits, dots, dashes or underscores (got "${apiTokenClient}")`);
  }

  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    // Never echo the value: it may hold a password.
    problems.push('DATABASE_URL must start with postgres:// or postgresql:// (unset it to keep the store in DATA_DIR)');
  }

  const metricsToken = env.METRICS_TOKEN?.trim() || null;
  if (metricsToken !== null && metricsToken.length < 16) problems.push('METRICS_TOKEN must be at least 16 characters long');

  const trustProxy = ((): Config['trustProxy'] => {
    const raw = str('TRUST_PROXY', 'false').toLowerCase();
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    // "true" meant "trust every X-Forwarded-For entry" before; it now means the usual single proxy in front.
    if (['true', 'yes', 'on'].includes(raw)) return 1;
    if (/^\d+$/.test(raw)) {
      const n = Number(raw);
      if (n >= 1 && n <= 10) return n;
    } else {
      const list = raw.split(',').map((a) => a.trim()).filter(Boolean);
      const valid = (a: string) => {
        const [ip, bits, extra] = a.split('/');
        if (extra !== undefined || isIP(ip) === 0) return false;
        return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (isIP(ip) === 4 ? 32 : 128));
      };
      if (list.length > 0 && list.every(valid)) return list;
    }
    problems.push(`TRUST_PROXY must be false, a number of proxy hops (1-10; true means 1), or the proxies' addresses or CIDRs separated by commas (got "${raw}")`);
    return false;
  })();

  const bodyLimit = size('BODY_LIMIT', '25mb', 1024);
  const maxImageBytes = size('MAX_IMAGE_BYTES', '10mb', 1024);

  const config: Config = {
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST', '127.0.0.1'),
    dataDir: path.resolve(str('DATA_DIR', './data')),
    logLevel: logLevel as Config['logLevel'],
    bodyLimit,
    apiToken,
    apiTokenClient,
    engineWorkers: int('ENGINE_WORKERS', Math.max(1, cores), 1, 256),
    engineQueue: int('ENGINE_QUEUE', 64, 1, 100_000),
    engineThreads: int('ENGINE_THREADS', 0, 0, 256),
    personVerificationTtlMs: ttl ?? 365 * DURATION_UNITS.d,
    livenessMinScore: num('LIVENESS_MIN_SCORE', DEFAULT_LIVENESS_MIN_SCORE, 0, 1),
    livenessSessionMinScore: num('LIVENESS_SESSION_MIN_SCORE', DEFAULT_SESSION_FLOORS.minScore, 0, 1),
    livenessSessionMinSteps: int('LIVENESS_SESSION_MIN_STEPS', DEFAULT_SESSION_FLOORS.minSteps, 1, 6),
    livenessSessionTenantFloors: tenantFloors(env.LIVENESS_SESSION_TENANT_FLOORS, problems),
    maxImages: int('MAX_IMAGES', 5, 1, 50),
    maxImageBytes,
    trustProxy,
    reindexOnStart: bool('REINDEX_ON_START', true),
    livenessDetails: bool('LIVENESS_DETAILS', false),
    engineQueuePerClient: 0, // set below: defaults to half of ENGINE_QUEUE
    rateLimitMax: int('RATE_LIMIT_MAX', 600, 0, 1_000_000),
    rateLimitWindowMs: 60_000,
    samePersonMinScore: num('SAME_PERSON_MIN_SCORE', DEFAULT_SAME_PERSON_MIN_SCORE, 0.5, 1),
    auditRetentionDays: int('AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    databaseUrl,
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 1000),
    metricsToken,
  };
  config.engineQueuePerClient = int('ENGINE_QUEUE_PER_CLIENT', Math.max(1, Math.ceil(config.engineQueue / 2)), 1, 100_000);
  const windowRaw = str('RATE_LIMIT_WINDOW', '1m');
  const windowMs = parseDuration(windowRaw);
  if (windowMs === null || windowMs < 1000) problems.push(`RATE_LIMIT_WINDOW must be a duration of at least 1s, such as 1m or 10s (got "${windowRaw}")`);
  else config.rateLimitWindowMs = windowMs;
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Defaults for tests and embedding: the same values `loadConfig({})` gives, with overrides. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}
