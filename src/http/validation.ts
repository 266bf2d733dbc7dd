// Request validation: Ajv through Fastify, with Verifik's (Joi-style) messages naming the field at fault, e.g.
// `"os" is required`, `"foo" is not allowed`, `"limit" must be less than or equal to 100`.
//
// Bodies are validated strictly (no type coercion, unknown fields rejected, not silently dropped); query strings
// and path parameters are coerced, since everything arrives there as text.
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { MAX_IMAGES_NOTE, patternMeaning } from './schemas.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  /** The schema holding the failed keyword (Ajv's `verbose`): names the allowed fields and the expected format. */
  parentSchema?: { properties?: Record<string, unknown>; pattern?: string; description?: string };
}

type CompilerFactory = (externalSchemas: unknown, options: { customOptions: Record<string, unknown>; plugins?: unknown[] }) => (route: {
  schema: FastifySchema;
  method: string;
  url: string;
  httpPart?: string;
}) => (data: unknown) => unknown;

// @fastify/ajv-compiler is CommonJS with a default-function export.
const AjvCompiler = createRequire(import.meta.url)('@fastify/ajv-compiler') as () => CompilerFactory;

// verbose: errors carry their schema, so a message can list the allowed fields or name a format. (It also carries
// the value sent, which no message ever uses: values may be images or personal data.)
const COMMON = { useDefaults: true, allErrors: false, removeAdditional: false, allowUnionTypes: true, verbose: true } as const;

export function installValidation(app: FastifyInstance): void {
  const strict = AjvCompiler()({}, { customOptions: { ...COMMON, coerceTypes: false } });
  const coercing = AjvCompiler()({}, { customOptions: { ...COMMON, coerceTypes: 'array' } });
  app.setValidatorCompiler((route) => (route.httpPart === 'body' ? strict(route as never) : coercing(route as never)) as never);
}

/** `/images/0/x` → `images[0].x` */
export function fieldName(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

function typeList(t: unknown): string {
  const types = (Array.isArray(t) ? t : String(t).split(',')).map((x) => TYPE_NAMES[x] ?? x);
  return types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : types[0];
}

function describe(e: AjvError, field: string): string {
  const f = `"${field}"`;
  const p = e.params;
  // A length error on a field with a known format (a date too short) is better told as the format it must have.
  const format = e.parentSchema?.pattern === undefined ? undefined : patternMeaning(e.parentSchema.pattern);
  if (format && ['pattern', 'minLength', 'maxLength'].includes(e.keyword)) return `${f} must be ${format}`;
  switch (e.keyword) {
    case 'required':
      return `${f} is required`;
    case 'additionalProperties':
      return `${f} is not allowed`;
    case 'type':
      return `${f} must be ${typeList(p.type)}`;
    case 'enum':
      return `${f} must be one of [${(p.allowedValues as unknown[]).join(', ')}]`;
    case 'const':
      return `${f} must be ${JSON.stringify(p.allowedValue)}`;
    case 'minLength':
      return p.limit === 1 ? `${f} is not allowed to be empty` : `${f} length must be at least ${p.limit} characters long`;
    case 'maxLength':
      return `${f} length must be less than or equal to ${p.limit} characters long`;
    case 'minimum':
      return `${f} must be greater than or equal to ${p.limit}`;
    case 'maximum':
      return `${f} must be less than or equal to ${p.limit}`;
    case 'exclusiveMinimum':
      return `${f} must be greater than ${p.limit}`;
    case 'exclusiveMaximum':
      return `${f} must be less than ${p.limit}`;
    case 'multipleOf':
      return `${f} must be a multiple of ${p.multipleOf}`;
    case 'minItems':
      return `${f} must contain at least ${p.limit} items`;
    case 'maxItems':
      return `${f} must contain less than or equal to ${p.limit} items`;
    case 'uniqueItems':
      return `${f} contains a duplicate value`;
    case 'minProperties':
      return `${f} must have at least ${p.limit} keys`;
    case 'format':
      return `${f} must be a valid ${p.format}`;
    case 'pattern':
      // Never echo the value: it may be an image or personal data.
      return `${f} has an invalid format`;
    default:
      return `${f} is invalid`;
  }
}

/** Joi-style message for the first Ajv error of a request part (`body`, `querystring`, `params`, `headers`). */
export function validationMessage(errors: AjvError[], context = 'body'): string {
  return validationFailure(errors, context).message;
}

/** The first Ajv error as the field at fault, a message naming it, and a hint where one helps (unknown fields). */
export function validationFailure(errors: AjvError[], context = 'body'): { field: string; message: string; hint?: string } {
  const e = errors[0];
  if (!e) return { field: context, message: `"${context}" is invalid` };
  const extra =
    e.keyword === 'required'
      ? (e.params.missingProperty as string)
      : e.keyword === 'additionalProperties'
        ? (e.params.additionalProperty as string)
        : undefined;
  const field = fieldName(e.instancePath, extra) || (context === 'querystring' ? 'query' : context);
  const message = describe(e, field);
  if (e.keyword === 'additionalProperties') {
    const allowed = Object.keys(e.parentSchema?.properties ?? {});
    const where = fieldName(e.instancePath) || (context === 'querystring' ? 'the query string' : `the ${context}`);
    const hint = allowed.length > 0 ? `fields allowed in ${where}: ${allowed.join(', ')}` : `${where} takes no fields`;
    return { field, message, hint };
  }
  if (e.keyword === 'maxItems' && e.parentSchema?.description?.includes(MAX_IMAGES_NOTE)) {
    return { field, message, hint: `at most ${e.params.limit} images per request; ${MAX_IMAGES_NOTE} changes it` };
  }
  return { field, message };
}
