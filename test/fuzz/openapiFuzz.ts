// A fuzzer driven by the server's own OpenAPI document: for every route it builds a valid request from the route's
// schemas (body, query, path), then sends that request with one thing wrong or odd at a time (boundary numbers,
// unicode, huge strings, wrong types, missing and extra fields, hostile images, broken JSON, bad auth) and checks
// the answer: never a 5xx, a 4xx is the API's {message, code} envelope with a status the route documents, and a
// refused request stores nothing. Deterministic for a seed, so a failure can be replayed.
import { pixelBombPng, notAnImage } from '../support/hostile.js';

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The raw body; undefined: none. */
  payload?: string;
}

export interface FuzzAnswer {
  status: number;
  text: string;
}

export interface FuzzCase {
  route: string;
  /** What was changed from the valid request, e.g. `body.min_score = 1.0000001`. */
  what: string;
  request: FuzzRequest;
}

type Schema = Record<string, any>;

interface RouteSpec {
  method: string;
  path: string;
  body?: Schema;
  query: { name: string; required: boolean; schema: Schema }[];
  params: { name: string; schema: Schema }[];
  /** Statuses the route documents. */
  statuses: Set<number>;
  authenticated: boolean;
}

/** Seeded PRNG (mulberry32): the same seed, the same requests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every route of the document, with the schemas of its parts. */
export function routesOf(doc: Schema, opts: { skip?: RegExp } = {}): RouteSpec[] {
  const out: RouteSpec[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<Schema>(item)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
      const key = `${method.toUpperCase()} ${path}`;
      if (opts.skip?.test(key)) continue;
      const params = (op.parameters ?? []) as Schema[];
      out.push({
        method: method.toUpperCase(),
        path,
        body: op.requestBody?.content?.['application/json']?.schema,
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: !!p.required, schema: p.schema ?? {} })),
        params: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        statuses: new Set(Object.keys(op.responses ?? {}).map(Number).filter(Number.isFinite)),
        authenticated: Array.isArray(op.security) && op.security.some((s: Schema) => 'bearer' in s),
      });
    }
  }
  return out;
}

/** Images a request may carry: one real face (valid), and hostile ones. */
export interface ImagePool {
  face: string;
  hostile: [string, string][];
}

export function hostileImages(face: Buffer, maxImageBytes: number): [string, string][] {
  return [
    ['random bytes', notAnImage(2048).toString('base64')],
    ['a 400-megapixel PNG header (decompression bomb)', pixelBombPng().toString('base64')],
    ['a truncated JPEG', face.subarray(0, Math.min(300, face.length)).toString('base64')],
    ['a JPEG whose header is intact and body zeroed', Buffer.concat([face.subarray(0, 600), Buffer.alloc(Math.max(0, face.length - 600))]).toString('base64')],
    ['a data: URL', `data:image/jpeg;base64,${face.toString('base64')}`],
    ['not base64 at all', '!!!! not base64 ####'],
    ['base64 of an empty file', ''],
    ['one byte', 'AA=='],
    ['over MAX_IMAGE_BYTES', Buffer.alloc(maxImageBytes + 1024, 0xff).toString('base64')],
    ['a GIF', Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64').toString('base64')],
  ];
}

const UNICODE = ['😀', 'é', 'ＡＢＣ', '\u202eevil', '\u0000', '\ud800', 'Ω≈ç√∫', '<script>alert(1)</script>', "' OR 1=1 --", '../../etc/passwd', '%00', '{{7*7}}', '\u200b', 'ا'.repeat(10)];
const PATTERN_CANDIDATES = ['0123456789abcdef01234567', '00000000-0000-4000-8000-000000000000', 'person_0123456789abcdef01234567', 'a', 'A', '1', '2020-01-01', '2020-01-01T00:00:00Z', 'abc', 'turn_left', 'M', 'DESKTOP', 'ACCURATE'];

/** Is this string schema an image field? */
const isImage = (s: Schema) => s.type === 'string' && s.contentEncoding === 'base64';

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

/** A value the schema accepts (as far as this generator can tell), built with `r`. */
export function validValue(s: Schema, r: () => number, images: ImagePool, depth = 0): unknown {
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum)) return pick(r, s.enum);
  const branches = s.anyOf ?? s.oneOf;
  if (Array.isArray(branches)) return validValue(pick(r, branches), r, images, depth);
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
  switch (type) {
    case 'string': {
      if (isImage(s)) return images.face;
      if (s.pattern) {
        const re = new RegExp(s.pattern, 'u');
        const hit = PATTERN_CANDIDATES.find((c) => re.test(c));
        if (hit) return hit;
      }
      if (s.format === 'date') return '1990-05-17';
      if (s.format === 'date-time') return '2020-01-01T00:00:00Z';
      const min = s.minLength ?? 1;
      return 'x'.repeat(Math.max(min, 1)).slice(0, s.maxLength ?? 64);
    }
    case 'integer': {
      const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
      return Math.ceil(lo);
    }
    case 'number': {
      const lo = s.minimum ?? 0;
      const hi = s.maximum ?? lo + 1;
      return Math.round(((lo + hi) / 2) * 1000) / 1000;
    }
    case 'boolean':
      return r() < 0.5;
    case 'array': {
      const n = Math.max(s.minItems ?? 0, 1);
      return Array.from({ length: Math.min(n, s.maxItems ?? n) }, () => validValue(s.items ?? {}, r, images, depth + 1));
    }
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>(s.required ?? []);
      for (const [k, v] of Object.entries<Schema>(s.properties ?? {})) {
        if (required.has(k) || (depth === 0 && r() < 0.3)) out[k] = validValue(v, r, images, depth + 1);
      }
      return out;
    }
    default:
      return null;
  }
}

/** Values of the wrong type for `s`. */
function wrongTypes(s: Schema): [string, unknown][] {
  const type = s.type;
  const all: [string, unknown][] = [
    ['null', null],
    ['true', true],
    ['a number', 12345],
    ['a string', 'not-the-right-type'],
    ['an array', ['x']],
    ['an object', { x: 1 }],
  ];
  const same = (v: unknown) =>
    (type === 'string' && typeof v === 'string') ||
    ((type === 'number' || type === 'integer') && typeof v === 'number') ||
    (type === 'boolean' && typeof v === 'boolean') ||
    (type === 'array' && Array.isArray(v)) ||
    (type === 'object' && v !== null && typeof v === 'object' && !Array.isArray(v));
  return all.filter(([, v]) => !same(v));
}

/** Odd or invalid values for a field of schema `s`. */
function oddValues(s: Schema, images: ImagePool): [string, unknown][] {
  const out: [string, unknown][] = [...wrongTypes(s)];
  if (isImage(s)) for (const [what, v] of images.hostile) out.push([what, v]);
  else if (s.type === 'string' || Array.isArray(s.enum) || s.anyOf) {
    out.push(['empty', ''], ['blank', '   '], ['1 MB', 'x'.repeat(1 << 20)]);
    if (s.maxLength !== undefined) out.push([`maxLength+1 (${s.maxLength + 1})`, 'y'.repeat(s.maxLength + 1)]);
    for (const u of UNICODE) out.push([`unicode ${JSON.stringify(u)}`, u]);
  }
  if (s.type === 'number' || s.type === 'integer') {
    const lo = s.minimum ?? s.exclusiveMinimum;
    const hi = s.maximum ?? s.exclusiveMaximum;
    if (lo !== undefined) out.push([`minimum (${lo})`, lo], [`below minimum (${lo - 1e-9})`, lo - 1e-9], [`far below (${lo - 1})`, lo - 1]);
    if (hi !== undefined) out.push([`maximum (${hi})`, hi], [`above maximum (${hi + 1e-9})`, hi + 1e-9], [`far above (${hi + 1})`, hi + 1]);
    out.push(['0', 0], ['-1', -1], ['1e308', 1e308], ['-1e308', -1e308], ['2^53+1', 2 ** 53 + 1], ['0.5', 0.5], ['-0', -0], ['5e-324', 5e-324]);
  }
  if (s.type === 'array') {
    out.push(['empty array', []]);
    if (s.maxItems !== undefined) out.push([`maxItems+1 (${s.maxItems + 1})`, Array.from({ length: s.maxItems + 1 }, () => (isImage(s.items ?? {}) ? images.hostile[0][1] : 'x'))]);
    out.push(['array of nulls', [null, null]]);
  }
  return out;
}

/** Serialise a body, letting a value be raw JSON text (numbers JSON.stringify cannot write). */
function jsonBody(body: unknown): string {
  return JSON.stringify(body);
}

function pathFor(route: RouteSpec, values: Record<string, string>): string {
  return route.path.replace(/\{([^}]+)\}/g, (_, name: string) => encode(values[name] ?? 'x'));
}

/** Percent-encoding that also sends what encodeURIComponent refuses (a lone surrogate): as bytes that are not UTF-8. */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s].map((ch) => (/[\ud800-\udfff]/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  }
}

function queryString(q: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) parts.push(`${encode(k)}=${encode(x)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

export interface FuzzContext {
  token: string;
  /** An id that exists for this route's path parameter, so that its valid request reaches the handler. */
  ids(routePath: string, param: string): string | undefined;
  images: ImagePool;
  /** Extra headers every request carries (host/origin for the console). */
  headers?: Record<string, string>;
}

/**
 * Every case for one route: the valid request once, then one mutation at a time. `limit` keeps a random subset
 * (the valid request and the auth cases always stay), chosen by `r`.
 */
export function casesFor(route: RouteSpec, ctx: FuzzContext, r: () => number, limit = Infinity): FuzzCase[] {
  const key = `${route.method} ${route.path}`;
  const baseBody = route.body ? (validValue(route.body, r, ctx.images) as Record<string, unknown>) : undefined;
  const baseQuery: Record<string, string> = {};
  for (const q of route.query) if (q.required) baseQuery[q.name] = String(validValue(q.schema, r, ctx.images));
  const baseParams: Record<string, string> = {};
  for (const p of route.params) baseParams[p.name] = ctx.ids(route.path, p.name) ?? String(validValue(p.schema, r, ctx.images));
  const headers = (extra: Record<string, string> = {}, json = true): Record<string, string> => ({
    ...ctx.headers,
    ...(route.authenticated ? { authorization: `Bearer ${ctx.token}` } : {}),
    ...(json && route.body ? { 'content-type': 'application/json' } : {}),
    ...extra,
  });
  const make = (what: string, o: { body?: unknown; raw?: string; query?: Record<string, string | string[]>; params?: Record<string, string>; headers?: Record<string, string> } = {}): FuzzCase => ({
    route: key,
    what,
    request: {
      method: route.method,
      url: pathFor(route, o.params ?? baseParams) + queryString(o.query ?? baseQuery),
      headers: o.headers ?? headers(),
      payload: o.raw !== undefined ? o.raw : route.body ? jsonBody(o.body === undefined ? baseBody : o.body) : undefined,
    },
  });

  const fixed: FuzzCase[] = [make('the valid request')];
  if (route.authenticated) {
    fixed.push(make('no Authorization header', { headers: headers({ authorization: '' }) }));
    fixed.push(make('an unknown token', { headers: headers({ authorization: 'Bearer fg_unknown_0123456789' }) }));
  }
  const cases: FuzzCase[] = [];
  if (route.body && baseBody && typeof baseBody === 'object') {
    const props = (route.body.properties ?? {}) as Record<string, Schema>;
    const required = new Set<string>(route.body.required ?? []);
    for (const [name, schema] of Object.entries(props)) {
      if (required.has(name)) {
        const { [name]: _gone, ...rest } = baseBody;
        cases.push(make(`body.${name} missing`, { body: rest }));
      }
      for (const [what, v] of oddValues(schema, ctx.images)) cases.push(make(`body.${name} = ${what}`, { body: { ...baseBody, [name]: v } }));
      // One level down: the fields of an object, the items of an array of objects.
      const inner = schema.type === 'object' ? schema : schema.type === 'array' && schema.items?.type === 'object' ? schema.items : null;
      if (inner) {
        const base = validValue(inner, r, ctx.images, 1) as Record<string, unknown>;
        for (const [n2, s2] of Object.entries<Schema>(inner.properties ?? {})) {
          for (const [what, v] of oddValues(s2, ctx.images)) {
            const value = { ...base, [n2]: v };
            cases.push(make(`body.${name}.${n2} = ${what}`, { body: { ...baseBody, [name]: schema.type === 'array' ? [value] : value } }));
          }
        }
      }
    }
    cases.push(make('an extra field', { body: { ...baseBody, not_a_field: 1 } }));
    cases.push(make('a __proto__ key', { raw: `{"__proto__":{"polluted":true},${jsonBody(baseBody).slice(1)}` }));
    cases.push(make('a constructor.prototype key', { raw: `{"constructor":{"prototype":{"polluted":true}},${jsonBody(baseBody).slice(1)}` }));
    cases.push(make('a duplicate key', { raw: `${jsonBody(baseBody).slice(0, -1)}${Object.keys(baseBody).length ? ',' : ''}"${Object.keys(baseBody)[0] ?? 'a'}":null}` }));
  }
  if (route.body || route.method !== 'GET') {
    for (const [what, raw] of [
      ['broken JSON', '{"a":'],
      ['an empty body', ''],
      ['a JSON array', '[1,2,3]'],
      ['a JSON string', '"hello"'],
      ['JSON null', 'null'],
      ['a number literal too big for a double', '{"x":1e999999}'],
      ['nested 5,000 deep', `${'['.repeat(5000)}${']'.repeat(5000)}`],
      ['an object nested 5,000 deep', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1')],
    ] as [string, string][]) {
      cases.push(make(`body: ${what}`, { raw }));
    }
    cases.push(make('content-type text/plain', { headers: headers({ 'content-type': 'text/plain' }) }));
    cases.push(make('content-type form', { headers: headers({ 'content-type': 'application/x-www-form-urlencoded' }), raw: 'a=1&b=2' }));
  }
  for (const q of route.query) {
    if (q.required) {
      const { [q.name]: _gone, ...rest } = baseQuery;
      cases.push(make(`query.${q.name} missing`, { query: rest }));
    }
    for (const [what, v] of oddValues(q.schema, ctx.images)) {
      if (typeof v === 'object' && v !== null) continue;
      const text = String(v);
      if (text.length > 8000) continue; // a URL that long is the proxy's concern (and Node's 16 KB header limit)
      cases.push(make(`query.${q.name} = ${what}`, { query: { ...baseQuery, [q.name]: text } }));
    }
    cases.push(make(`query.${q.name} repeated`, { query: { ...baseQuery, [q.name]: [String(validValue(q.schema, r, ctx.images)), 'again'] } }));
  }
  if (route.query.length > 0 || route.method === 'GET') cases.push(make('an unknown query parameter', { query: { ...baseQuery, not_a_param: '1' } }));
  for (const p of route.params) {
    for (const [what, v] of [
      ['unknown id', '0123456789abcdef01234567'],
      ['unicode', '😀é'],
      ['300 characters', 'a'.repeat(300)],
      ['dot-dot', '..'],
      ['NUL', '\u0000'],
      ['SQL', "1' OR '1'='1"],
      ['an uppercase id', (ctx.ids(route.path, p.name) ?? 'ABCDEF').toUpperCase()],
    ] as [string, string][]) {
      cases.push(make(`path.${p.name} = ${what}`, { params: { ...baseParams, [p.name]: v } }));
    }
  }
  // Keep a random subset of the mutations (Fisher–Yates on r), the fixed cases always.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [cases[i], cases[j]] = [cases[j], cases[i]];
  }
  return [...fixed, ...cases.slice(0, Math.max(0, limit - fixed.length))];
}

/** Statuses any route may answer without documenting them: a URL the router refuses, body limit, media type, throttling. */
const TRANSPORT_STATUSES = new Set([400, 413, 414, 415, 429]);

/** What is wrong with an answer, or null. */
export function judge(route: RouteSpec, c: FuzzCase, a: FuzzAnswer): string | null {
  if (a.status >= 500) return `${a.status}: ${a.text.slice(0, 300)}`;
  if (a.status >= 400) {
    let body: Schema;
    try {
      body = JSON.parse(a.text);
    } catch {
      return `${a.status} without a JSON body: ${a.text.slice(0, 200)}`;
    }
    if (typeof body.message !== 'string' || typeof body.code !== 'string') return `${a.status} not in the {message, code} envelope: ${a.text.slice(0, 200)}`;
    if (route.statuses.size > 0 && !route.statuses.has(a.status) && !TRANSPORT_STATUSES.has(a.status)) {
      return `${a.status} ${body.code} is not a status the route documents (${[...route.statuses].join(', ')}): ${body.message.slice(0, 200)}`;
    }
  }
  void c;
  return null;
}

export interface FuzzReport {
  requests: number;
  routes: number;
  byStatus: Record<string, number>;
  failures: { route: string; what: string; problem: string }[];
}

/**
 * Sends every case through `send`, judging each answer; `stored()` (row counts of what requests may write) must be
 * unchanged by every refused request. Stops collecting failures after `maxFailures`.
 */
export async function runFuzz(
  routes: RouteSpec[],
  ctx: FuzzContext,
  opts: { seed: number; perRoute?: number; send(req: FuzzRequest): Promise<FuzzAnswer>; stored(): string; maxFailures?: number; onProgress?(n: number): void },
): Promise<FuzzReport> {
  const r = rng(opts.seed);
  const report: FuzzReport = { requests: 0, routes: routes.length, byStatus: {}, failures: [] };
  for (const route of routes) {
    for (const c of casesFor(route, ctx, r, opts.perRoute)) {
      const before = opts.stored();
      const a = await opts.send(c.request);
      report.requests++;
      report.byStatus[a.status] = (report.byStatus[a.status] ?? 0) + 1;
      let problem = judge(route, c, a);
      if (!problem && a.status >= 400) {
        const after = opts.stored();
        if (after !== before) problem = `refused (${a.status}) but stored something: ${before} -> ${after}`;
      }
      if (problem && report.failures.length < (opts.maxFailures ?? 50)) report.failures.push({ route: c.route, what: c.what, problem });
      opts.onProgress?.(report.requests);
    }
  }
  return report;
}
