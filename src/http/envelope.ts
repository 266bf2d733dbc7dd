// The success envelope `{id, data, signature}`; `signature.jws` signs `data` (see signing.ts).
import type { FastifyRequest } from 'fastify';
import type { ResponseSigner } from './signing.js';

export const SIGNATURE_MESSAGE = 'Certified by Facegate';

export interface Envelope<T> {
  id: string;
  data: T;
  signature: { message: string; dateTime: string; jws?: string };
}

export async function envelope<T>(req: FastifyRequest, signer: ResponseSigner, data: T): Promise<Envelope<T>> {
  return {
    id: req.id,
    data,
    signature: { message: SIGNATURE_MESSAGE, dateTime: new Date().toISOString(), jws: await signer.sign(data) },
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
