// Crash safety of a real server process: SIGKILL it while concurrent enrolments and deletions are in flight,
// restart it on the same DATA_DIR, and check that every acknowledged write is there and every acknowledged delete
// gone, in the store (GET) and in search. Writes whose answer never arrived may have landed or not: either is fine.
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { faceBase64, type FaceName } from './support/photos.js';
import { startServer, type ServerProcess } from './support/server.js';

const TOKEN = 'crash-test-static-token-0123456789abcdef';
const FACES: FaceName[] = ['s1a', 's1b', 's4a', 's5a', 's6a', 's6b', 's6c', 's6d'];

let server: ServerProcess | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  await server?.kill().catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function call(base: string, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

describe('SIGKILL during concurrent enrolments and deletions', () => {
  it('after a restart on the same DATA_DIR, acknowledged enrolments are stored and searchable, acknowledged deletions are gone', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-crash-'));
    const env = { API_TOKEN: TOKEN, RATE_LIMIT_MAX: '0', ENGINE_QUEUE: '256', ENGINE_QUEUE_PER_CLIENT: '256' };
    server = await startServer({ dataDir, env });
    const images = new Map<FaceName, string>();
    for (const f of FACES) images.set(f, await faceBase64(f));

    const created = new Map<string, FaceName>(); // acknowledged enrolments: id -> face
    const deleted = new Set<string>(); // acknowledged deletions
    const deleting = new Set<string>(); // deletions sent and not answered (yet): at the kill, either outcome is right
    let stop = false;
    let inFlightAtKill = 0;
    let inFlight = 0;
    const base = server.base;

    const enroller = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const face = FACES[(w * 3 + i) % FACES.length];
        inFlight++;
        try {
          const r = await call(base, 'POST', '/v2/face-recognition/persons', { name: `P ${w}-${i}`, images: [images.get(face)] });
          if (r.status === 200) created.set(r.body.data._id, face);
          else if (!stop) throw new Error(`enrolment answered ${r.status} ${JSON.stringify(r.body)}`);
        } catch (err) {
          if (!stop) throw err; // a connection error is expected only once the server is killed
        } finally {
          inFlight--;
        }
      }
    };
    const deleter = async () => {
      while (!stop) {
        const candidates = [...created.keys()].filter((id) => !deleted.has(id));
        if (candidates.length < 2) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const id = candidates[Math.floor(candidates.length / 2)];
        inFlight++;
        deleting.add(id);
        try {
          const r = await call(base, 'DELETE', `/v2/face-recognition/persons/${id}`);
          deleting.delete(id);
          if (r.status === 200) deleted.add(id);
          else if (!stop && r.status !== 404) throw new Error(`deletion answered ${r.status}`);
        } catch (err) {
          if (!stop) throw err;
        } finally {
          inFlight--;
        }
      }
    };
    const loops = [enroller(0), enroller(1), enroller(2), enroller(3), deleter(), deleter()];
    // Kill once a good number of writes were acknowledged, while requests are in flight.
    const t0 = Date.now();
    while (created.size < 12 || deleted.size < 3) {
      if (Date.now() - t0 > 120_000) throw new Error(`too slow: ${created.size} enrolled, ${deleted.size} deleted in 120 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
    inFlightAtKill = inFlight;
    stop = true;
    await server.kill();
    await Promise.all(loops);
    expect(inFlightAtKill, 'the kill should land while requests are in flight').toBeGreaterThan(0);

    server = await startServer({ dataDir, env });
    for (const [id] of created) {
      if (deleting.has(id)) continue; // its deletion was cut off by the kill: committed or not, both are right
      const r = await call(server.base, 'GET', `/v2/face-recognition/persons/${id}`);
      expect(r.status, `person ${id} (${deleted.has(id) ? 'deleted' : 'enrolled'})`).toBe(deleted.has(id) ? 404 : 200);
      if (!deleted.has(id)) expect(r.body.data.thumbnails).toHaveLength(1);
    }
    // Search: every acknowledged, undeleted enrolment of a face is found by that face; no deleted one is.
    for (const face of new Set(created.values())) {
      const r = await call(server.base, 'POST', '/v2/face-recognition/search', { images: [images.get(face)], min_score: 0.8, search_mode: 'ACCURATE', max_results: 100 });
      expect(r.status).toBe(200);
      const found = new Set((r.body.data as { id: string }[]).map((h) => h.id));
      for (const [id, f] of created) {
        if (f !== face || deleting.has(id)) continue;
        expect(found.has(id), `${id} ${deleted.has(id) ? 'deleted but found' : 'enrolled but not found'}`).toBe(!deleted.has(id));
      }
      const fast = await call(server.base, 'POST', '/v2/face-recognition/search', { images: [images.get(face)], min_score: 0.8, search_mode: 'FAST', max_results: 100 });
      const foundFast = new Set((fast.body.data as { id: string }[]).map((h) => h.id));
      for (const id of deleted) expect(foundFast.has(id)).toBe(false);
    }
    // The audit trail survived too: every acknowledged enrolment and deletion has its event (written before the answer).
    expect(await server.stop()).toBe(0);
    server = undefined;
    const db = new Database(path.join(dataDir, 'facegate.db'), { readonly: true });
    const events = db.prepare("SELECT action, subject FROM audit_events WHERE outcome = 'ok'").all() as { action: string; subject: string }[];
    db.close();
    const enrolled = new Set(events.filter((e) => e.action === 'face_person.enrol').map((e) => e.subject));
    const erased = new Set(events.filter((e) => e.action === 'face_person.erase').map((e) => e.subject));
    for (const id of created.keys()) expect(enrolled.has(id), `audit event of enrolment ${id}`).toBe(true);
    for (const id of deleted) expect(erased.has(id), `audit event of erasure ${id}`).toBe(true);
  }, 300_000);
});
