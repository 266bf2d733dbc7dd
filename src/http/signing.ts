// Response signing: an Ed25519 compact JWS over the canonical JSON of each response's `data`, so a relying party
// can prove a result came from this server. The key pair is generated on first start and kept in DATA_DIR (0600);
// its public half is served at /.well-known/jwks.json.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { canonicalJson } from './canonical.js';

export const SIGNING_KEY_FILE = 'signing-key.json';

export interface ResponseSigner {
  readonly kid: string;
  /** Compact JWS (header.payload.signature) whose payload is the canonical JSON of `data`. */
  sign(data: unknown): Promise<string>;
  /** `{ keys: [publicJwk] }` for /.well-known/jwks.json. */
  jwks(): { keys: JWK[] };
}

async function signerFromJwk(privateJwk: JWK): Promise<ResponseSigner> {
  const key = await importJWK(privateJwk, 'EdDSA');
  const { d: _private, ...publicJwk } = privateJwk;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  const published: JWK = { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, kid, alg: 'EdDSA', use: 'sig' };
  const encoder = new TextEncoder();
  return {
    kid,
    async sign(data: unknown) {
      return new CompactSign(encoder.encode(canonicalJson(data))).setProtectedHeader({ alg: 'EdDSA', kid }).sign(key);
    },
    jwks: () => ({ keys: [published] }),
  };
}

/** A signer with a fresh key that lives only in memory (tests, or callers that do not need a stable key). */
export async function createEphemeralSigner(): Promise<ResponseSigner> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return signerFromJwk({ ...jwk, kid: await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! }) });
}

/** Loads `DATA_DIR/signing-key.json`, creating it (mode 0600) on first start. */
export async function loadOrCreateSigner(dataDir: string): Promise<ResponseSigner> {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  let text: string | null = null;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) {
    const jwk = JSON.parse(text) as JWK;
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d || !jwk.x) throw new Error(`${file} is not an Ed25519 private JWK`);
    return signerFromJwk(jwk);
  }
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! });
  const stored: JWK = { ...jwk, kid, alg: 'EdDSA' };
  await mkdir(dataDir, { recursive: true });
  try {
    // 'wx': if another process created it first, use theirs rather than overwrite it.
    await writeFile(file, JSON.stringify(stored, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSigner(dataDir);
    throw err;
  }
  await chmod(file, 0o600);
  return signerFromJwk(stored);
}
