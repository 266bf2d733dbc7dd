// A small, strict description of an answer's shape, as Verifik's documentation examples show it, and a checker
// that names every field that is missing or of the wrong kind. Members beyond the documented ones are allowed
// (Facegate's additions: clients of Verifik's API ignore members they do not know).

export type Shape =
  | 'string'
  | 'number'
  | 'score' // a number in [0, 1]
  | 'boolean'
  | 'null'
  | 'objectId' // 24 lowercase hex characters
  | 'uuid'
  | 'dateTime' // ISO 8601 UTC with milliseconds
  | 'date' // YYYY-MM-DD
  | 'base64Jpeg'
  | { literal: unknown }
  | { anyOf: Shape[] }
  | { arrayOf: Shape; minItems?: number }
  | { [field: string]: Shape };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Every way `value` departs from `shape`, one line per field (`data.thumbnails[0].id: expected uuid, got 42`). */
export function shapeErrors(value: unknown, shape: Shape, at = 'data'): string[] {
  const bad = (what: string) => [`${at}: expected ${what}, got ${JSON.stringify(value)?.slice(0, 60)}`];
  if (typeof shape === 'string') {
    switch (shape) {
      case 'string':
        return typeof value === 'string' ? [] : bad('a string');
      case 'number':
        return typeof value === 'number' && Number.isFinite(value) ? [] : bad('a number');
      case 'score':
        return typeof value === 'number' && value >= 0 && value <= 1 ? [] : bad('a score in [0, 1]');
      case 'boolean':
        return typeof value === 'boolean' ? [] : bad('a boolean');
      case 'null':
        return value === null ? [] : bad('null');
      case 'objectId':
        return typeof value === 'string' && /^[0-9a-f]{24}$/.test(value) ? [] : bad('a 24-hex id');
      case 'uuid':
        return typeof value === 'string' && UUID.test(value) ? [] : bad('a UUID');
      case 'dateTime':
        return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value) ? [] : bad('an ISO date-time');
      case 'date':
        return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? [] : bad('a YYYY-MM-DD date');
      case 'base64Jpeg':
        return typeof value === 'string' && Buffer.from(value, 'base64').subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])) ? [] : bad('a base64 JPEG');
    }
  }
  if ('literal' in shape && Object.keys(shape).length === 1) return Object.is(value, shape.literal) ? [] : bad(JSON.stringify(shape.literal));
  if ('anyOf' in shape && Array.isArray(shape.anyOf)) {
    const tries = (shape.anyOf as Shape[]).map((s) => shapeErrors(value, s, at));
    return tries.some((e) => e.length === 0) ? [] : tries.flat();
  }
  if ('arrayOf' in shape && Object.keys(shape).every((k) => k === 'arrayOf' || k === 'minItems')) {
    if (!Array.isArray(value)) return bad('an array');
    const min = (shape.minItems as number | undefined) ?? 0;
    if (value.length < min) return bad(`at least ${min} items`);
    return value.flatMap((item, i) => shapeErrors(item, shape.arrayOf as Shape, `${at}[${i}]`));
  }
  if (kind(value) !== 'object') return bad('an object');
  const obj = value as Record<string, unknown>;
  return Object.entries(shape as Record<string, Shape>).flatMap(([field, s]) =>
    field in obj ? shapeErrors(obj[field], s, `${at}.${field}`) : [`${at}.${field}: missing`],
  );
}

/** Verifik's envelope around any `data`. */
export const envelopeShape = (data: Shape): Shape => ({
  id: 'string',
  data,
  signature: { message: 'string', dateTime: 'string' },
});

/** Verifik's error body. */
export const errorShape: Shape = { message: 'string', code: 'string' };
