// The success envelope `{id, data, signature}`. `signature.jws` signs the answer bound to its request: the request
// id, the time, the client, the route, a digest of the whole request (method, path with query, body with images
// replaced by their digests) and a digest of every image sent, together with `data` (see signing.ts and
// docs/signatures.md), so a signed result cannot be presented again for another request or other parameters.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { missingParameter } from './errors.js';
import { BodyTooDeepError, requestDigest, type ResponseSigner, type SignedClaims } from './signing.js';

export const SIGNATURE_MESSAGE = 'Certified by Facegate';

export interface Envelope<T> {
  id: string;
  data: T;
  signature: { message: string; dateTime: string; jws?: string };
}

/** Request fields that carry images, in the order their digests are listed. */
const IMAGE_FIELDS = ['image', 'images', 'probe', 'gallery'] as const;

/** sha-256 (hex) of the decoded bytes of each image the request sent, named like error `field`s (`images[1]`). */
export function probeDigests(body: unknown): { field: string; sha256: string }[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as Record<string, unknown>;
  const out: { field: string; sha256: string }[] = [];
  const add = (field: string, v: unknown) => {
    // The same bytes the engine saw: base64 with any line breaks removed (images.ts accepts nothing else).
    if (typeof v === 'string') out.push({ field, sha256: createHash('sha256').update(Buffer.from(v.replace(/\s+/g, ''), 'base64')).digest('hex') });
  };
  for (const f of IMAGE_FIELDS) {
    const v = b[f];
    if (Array.isArray(v)) v.forEach((x, i) => add(`${f}[${i}]`, x));
    else add(f, v);
  }
  const bio = b.biometricData as Record<string, unknown> | undefined;
  if (bio && typeof bio === 'object') add('biometricData.faceImage', bio.faceImage);
  return out;
}

/** Digests of the requests as they arrived, before validation filled in defaults. */
const digests = new WeakMap<FastifyRequest, string>();

function digestOf(req: FastifyRequest): string {
  return requestDigest({ method: req.method, path: req.url, body: req.body });
}

/**
 * Every route's answer is bound to its whole request, here and not per route: the digest is taken before
 * validation, because Ajv fills defaults into the body, and the relying party can only re-derive what it sent.
 */
export function installRequestBinding(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    try {
      digests.set(req, digestOf(req));
    } catch (err) {
      // Refused as validation refuses a body: 409 naming the body (no schema nests this deep or takes Infinity).
      if (err instanceof BodyTooDeepError) throw missingParameter(`"body" ${err.message.replace(/^the body /, '')}`, 'body');
      if (err instanceof TypeError && /non-finite/.test(err.message)) throw missingParameter('"body" holds a number too large for a double (such as 1e999)', 'body');
      throw err;
    }
  });
}

/** What the JWS of an answer to `req` signs. */
export function claimsFor<T>(req: FastifyRequest, data: T, dateTime: string): SignedClaims<T> {
  // The concrete path (ids included, query string left out: it may hold names), so an answer about one person
  // cannot pass for an answer about another; the query is covered by `request`, a digest.
  const claims: SignedClaims<T> = {
    id: req.id,
    dateTime,
    client: req.client || null,
    route: `${req.method} ${req.url.split('?')[0]}`,
    request: digests.get(req) ?? digestOf(req),
    data,
  };
  if (req.callerRequestId) claims.callerRequestId = req.callerRequestId;
  // A 1:1 verify names its person in the body, not the path.
  const subject = (req.body as Record<string, unknown> | undefined)?.id;
  if (typeof subject === 'string') claims.subject = subject;
  const probes = probeDigests(req.body);
  if (probes.length > 0) claims.probes = probes;
  return claims;
}

export async function envelope<T>(req: FastifyRequest, signer: ResponseSigner, data: T): Promise<Envelope<T>> {
  const dateTime = new Date().toISOString();
  return {
    id: req.id,
    data,
    signature: { message: SIGNATURE_MESSAGE, dateTime, jws: await signer.sign(claimsFor(req, data, dateTime)) },
  };
}

export async function listEnvelope<T>(
  req: FastifyRequest,
  signer: ResponseSigner,
  page: { items: T[]; page: number; limit: number; total: number },
): Promise<Envelope<T[]> & { pagination: { page: number; limit: number; total: number; pages: number } }> {
  const env = await envelope(req, signer, page.items);
  return {
    id: env.id,
    data: env.data,
    pagination: { page: page.page, limit: page.limit, total: page.total, pages: Math.ceil(page.total / page.limit) },
    signature: env.signature,
  };
}
