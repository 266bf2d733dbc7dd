// What the fuzzer needs around a server: the OpenAPI document, existing ids for path parameters, row counts of
// everything a request may store, and images. Shared by the bounded run in `npm test` and `npm run fuzz`.
import Database from 'better-sqlite3';
import path from 'node:path';
import { DB_FILE_NAME } from '../../src/store/sqlite/store.js';
import type { FuzzContext, FuzzRequest } from './openapiFuzz.js';
import { hostileImages } from './openapiFuzz.js';

/** Tables a request can write (the audit trail and its retention excepted: refusals are recorded there on purpose). */
export const STORED_TABLES = [
  'clients',
  'tokens',
  'collections',
  'face_persons',
  'face_person_collections',
  'person_records',
  'face_templates',
  'face_thumbnails',
  'liveness_sessions',
  'liveness_session_frames',
  'index_changes',
] as const;

/** Row counts of STORED_TABLES, as one comparable string, read with a read-only connection to the live file. */
export function storedCounter(dataDir: string): { read(): string; close(): void } {
  const db = new Database(path.join(dataDir, DB_FILE_NAME), { readonly: true, fileMustExist: true });
  const query = db.prepare(STORED_TABLES.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL '));
  return {
    read: () => (query.all() as { t: string; n: number }[]).map((r) => `${r.t}=${r.n}`).join(' '),
    close: () => db.close(),
  };
}

/** Existing ids, so that the valid request of each route reaches its handler. */
export interface SeededIds {
  collection: string;
  facePerson: string;
  record: string;
  session: string;
}

export function idsFor(seeded: SeededIds): (routePath: string, param: string) => string | undefined {
  return (routePath, param) => {
    if (param === 'session_id') return seeded.session;
    if (routePath.startsWith('/v2/face-recognition/collections/')) return seeded.collection;
    if (routePath.startsWith('/v2/face-recognition/persons/')) return seeded.facePerson;
    if (routePath.startsWith('/v2/persons/')) return seeded.record;
    return undefined;
  };
}

/** Creates one of each entity over HTTP with the given face, through `send`. */
export async function seed(send: (r: FuzzRequest) => Promise<{ status: number; text: string }>, token: string, face: string): Promise<SeededIds> {
  const post = async (url: string, body: unknown) => {
    const a = await send({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    if (a.status !== 200) throw new Error(`seeding ${url}: ${a.status} ${a.text.slice(0, 300)}`);
    return JSON.parse(a.text).data;
  };
  const collection = (await post('/v2/face-recognition/collections', { name: 'Fuzz' }))._id;
  const facePerson = (await post('/v2/face-recognition/persons', { name: 'Fuzz Person', images: [face], collections: [collection] }))._id;
  const record = (await post('/v2/persons', { firstName: 'Fuzz', lastName: 'Record', biometricData: { faceImage: face } }))._id;
  const session = (await post('/v2/face-recognition/liveness/sessions', { steps: ['turn_left', 'smile'] })).session_id;
  return { collection, facePerson, record, session };
}

export function fuzzContext(token: string, seeded: SeededIds, face: Buffer, baseImage: string, maxImageBytes: number): FuzzContext {
  return {
    token,
    ids: idsFor(seeded),
    images: { face: baseImage, hostile: hostileImages(face, maxImageBytes) },
    // The console's routes answer only their own origin on a loopback host over http.
    headers: { host: 'localhost', origin: 'http://localhost' },
  };
}
