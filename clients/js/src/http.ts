// The transport: one fetch per call, the envelope unwrapped, errors typed, 429/503 retried after the server's
// Retry-After. Nothing but the platform's fetch.
import { FacegateError, FacegateProtocolError, type ErrorBody } from './errors.js';

export interface TransportOptions {
  /** The server's origin, e.g. `http://127.0.0.1:3000` (no path). */
  baseUrl: string;
  /** A client token (`tokens create` on the server's CLI). */
  token: string;
  /** Retries after 429 (rate limited) and 503 (engine busy, database away); 0 turns retrying off. Default 3. */
  retries?: number;
  /** The longest wait between tries, whatever Retry-After says. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Abort a call (all its tries) after this long. Default 120 s. */
  timeoutMs?: number;
  /** Another fetch (a test double, undici with a proxy agent…). Default: the global fetch. */
  fetch?: typeof fetch;
}

/** What was sent, kept with the answer: verifying a signature needs the request it answers. */
export interface SentRequest {
  method: string;
  /** Path with its query string, as sent (`/v2/face-recognition/persons?page=2`). */
  path: string;
  body?: unknown;
}

export interface Signature {
  message: string;
  dateTime: string;
  jws?: string;
}

/** A success: `{id, data, signature}`, plus the request it answers (not part of the wire format). */
export interface Answer<T> {
  id: string;
  data: T;
  signature: Signature;
  pagination?: Record<string, unknown>;
  request: SentRequest;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

/** `?a=1&b=x` from the defined entries, in the order given. */
export function queryString(query: Query | undefined): string {
  if (!query) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) p.append(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Retry-After is seconds or an HTTP date. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export class Transport {
  readonly baseUrl: string;
  private readonly opts: Required<Omit<TransportOptions, 'fetch' | 'baseUrl'>> & { fetch: typeof fetch };

  constructor(o: TransportOptions) {
    if (!o.baseUrl) throw new TypeError('baseUrl is required');
    if (!o.token) throw new TypeError('token is required');
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.opts = {
      token: o.token,
      retries: o.retries ?? 3,
      maxRetryDelayMs: o.maxRetryDelayMs ?? 30_000,
      timeoutMs: o.timeoutMs ?? 120_000,
      fetch: o.fetch ?? globalThis.fetch.bind(globalThis),
    };
  }

  /** One call; `path` starts with `/` and holds the query already. */
  async call<T>(method: string, path: string, body?: unknown, opts: { auth?: boolean } = {}): Promise<Answer<T>> {
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.auth !== false) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      const res = await this.opts.fetch(this.baseUrl + path, { method, headers, body: payload, signal });
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        throw new FacegateProtocolError(res.status, `${method} ${path}: HTTP ${res.status} with a body that is not JSON (${text.slice(0, 80)})`);
      }
      if (res.ok) {
        if (!json || typeof json !== 'object') throw new FacegateProtocolError(res.status, `${method} ${path}: an empty answer`);
        return { ...json, request: { method, path, ...(body === undefined ? {} : { body }) } } as Answer<T>;
      }
      const retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
      const retriable = res.status === 429 || res.status === 503;
      if (retriable && attempt < this.opts.retries) {
        // Without Retry-After: 1 s, 2 s, 4 s… The server's word wins when it gave one.
        const wait = Math.min(this.opts.maxRetryDelayMs, retryAfter !== undefined ? retryAfter * 1000 : 1000 * 2 ** attempt);
        await sleep(wait, signal);
        continue;
      }
      if (!json || typeof json.code !== 'string' || typeof json.message !== 'string') {
        throw new FacegateProtocolError(res.status, `${method} ${path}: HTTP ${res.status} without Facegate's error body`);
      }
      throw new FacegateError(res.status, json as ErrorBody, { requestId: res.headers.get('x-request-id') ?? undefined, retryAfter });
    }
  }
}
