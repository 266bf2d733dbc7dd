// Erasure reaches the graph snapshots: a person erased (or re-enrolled) while the server runs must not be written
// to disk by the next clean shutdown. usearch's remove() only marks a slot free and save() writes every slot, so
// these tests look for the erased person's vector, byte for byte, in every file of the snapshot.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rebuildIndex, saveIndexSnapshot } from '../../src/app.js';
import type { DomainDeps } from '../../src/domain/deps.js';
import { deleteFacePerson } from '../../src/domain/facePersons.js';
import { createGraph } from '../../src/index/ann.js';
import { createFaceIndex } from '../../src/index/index.js';
import { scrubFreeSlots } from '../../src/index/scrub.js';
import { openTemp, personInput } from '../store/helpers.js';
import { FaceLikeGenerator } from './synthetic.js';

/** Every byte encoding of `v` a snapshot could hold: float32, float64, float16 and int8 (rounded and truncated). */
function encodings(v: Float32Array): { name: string; bytes: Buffer }[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  const f16 = Buffer.alloc(2 * v.length);
  v.forEach((x, i) => f16.writeUInt16LE(toHalf(x), 2 * i));
  return [
    { name: 'float32', bytes: Buffer.from(new Float32Array(v).buffer) },
    { name: 'float64', bytes: Buffer.from(Float64Array.from(v).buffer) },
    { name: 'float16', bytes: f16 },
    // usearch's own f32 → i8 cast truncates x·127/‖x‖; ours rounds.
    { name: 'int8 (truncated)', bytes: Buffer.from(Int8Array.from(v, (x) => Math.trunc((x * 127) / norm)).buffer) },
    { name: 'int8 (rounded)', bytes: Buffer.from(Int8Array.from(v, (x) => Math.round((x * 127) / norm)).buffer) },
  ];
}

function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

/** Names of the encodings of `v` found in any file under `dir`. */
function foundIn(dir: string, v: Float32Array): string[] {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  expect(files.length).toBeGreaterThan(0);
  const hits = new Set<string>();
  for (const f of files) {
    const data = readFileSync(path.join(f.parentPath ?? f.path, f.name));
    for (const e of encodings(v)) if (data.includes(e.bytes)) hits.add(e.name);
  }
  return [...hits];
}

/**
 * The highest cosine between `node` (a person's graph vector before centring: the mean of its templates) and any
 * vector slot of any graph file of the snapshot. Graph nodes are centred on the manifest's per-tenant centre and
 * stored by usearch as int8 after its own scaling, so they are compared by direction, not by bytes. The vector
 * section is the file's start: u32 slots, u32 bytes a vector, then the vectors (src/index/scrub.ts).
 */
function closestSlot(dir: string, node: Float32Array): number {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    folder: string;
    tenants: { graph: string; centre: string | null }[];
  };
  let best = -Infinity;
  for (const t of manifest.tenants) {
    const centre = t.centre ? new Float32Array(new Uint8Array(Buffer.from(t.centre, 'base64')).buffer) : null;
    let n = 0;
    for (const x of node) n += x * x;
    const v = Float64Array.from(node, (x, j) => x / Math.sqrt(n) - (centre ? centre[j] : 0));
    const data = readFileSync(path.join(dir, manifest.folder, t.graph));
    const rows = data.readUInt32LE(0);
    const cols = data.readUInt32LE(4);
    expect(cols).toBe(node.length); // int8: one byte a dimension
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      let nn = 0;
      let vv = 0;
      for (let j = 0; j < cols; j++) {
        const x = data.readInt8(8 + r * cols + j);
        dot += x * v[j];
        nn += x * x;
        vv += v[j] * v[j];
      }
      if (nn > 0) best = Math.max(best, dot / Math.sqrt(nn * vv));
    }
  }
  return best;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('graph snapshot erasure', () => {
  it('usearch writes a removed node’s vector; scrubFreeSlots zeroes it and keeps the graph loadable', () => {
    const dim = 64;
    const g = new FaceLikeGenerator({ dim, seed: 5 });
    const graph = createGraph({ dim, connectivity: 16, expansionAdd: 64, expansionSearch: 64, quantization: 'i8' });
    const vectors = Array.from({ length: 500 }, () => g.identity());
    const keys = BigUint64Array.from(vectors.map((_, i) => BigInt(i)));
    const matrix = new Float32Array(500 * dim);
    vectors.forEach((v, i) => matrix.set(v, i * dim));
    graph.add(keys, matrix, 1);
    graph.remove(BigInt(42));
    graph.remove(BigInt(7));
    const dir = mkdtempSync(path.join(tmpdir(), 'facegate-scrub-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'g.usearch');
    graph.save(file);
    // The defect this guards against: the removed vectors are in the file.
    expect(foundIn(dir, vectors[42])).toContain('int8 (truncated)');
    expect(foundIn(dir, vectors[7])).toContain('int8 (truncated)');

    expect(scrubFreeSlots(file)).toEqual({ slots: 500, scrubbed: 2 });
    expect(foundIn(dir, vectors[42])).toEqual([]);
    expect(foundIn(dir, vectors[7])).toEqual([]);
    expect(foundIn(dir, vectors[43])).toContain('int8 (truncated)'); // live ones untouched

    const loaded = createGraph({ dim, connectivity: 16, expansionAdd: 64, expansionSearch: 64, quantization: 'i8' });
    loaded.load(file);
    expect(loaded.size()).toBe(498);
    expect(Number(loaded.search(vectors[43], 1, 1).keys[0])).toBe(43);
    expect([...loaded.search(vectors[42], 20, 1).keys].map(Number)).not.toContain(42);
  });

  for (const dim of [128, 512]) {
    it(`an erased person is in no file of the snapshot the server saves at shutdown (${dim}-d)`, async () => {
      const { store, dir, cleanup } = openTemp();
      cleanups.push(cleanup);
      const client = (await store.clients.create('tenant')).id;
      const g = new FaceLikeGenerator({ dim, seed: dim });
      const ids: string[] = [];
      const faces = new Map<string, Float32Array[]>();
      for (let i = 0; i < 400; i++) {
        const p = await store.facePersons.create(personInput(client, `p${i}`));
        const centre = g.identity();
        // Person 0 has one face (its graph node is that face), person 1 two (its node is their mean).
        const vs = Array.from({ length: i === 1 ? 2 : 1 }, () => g.sample(centre));
        for (const [imageIndex, embedding] of vs.entries()) {
          await store.templates.add({ client, person: p.id, imageIndex, modelVersion: 'm', embedding, thumbnail: null, quality: null });
        }
        ids.push(p.id);
        faces.set(p.id, vs);
      }
      // Small thresholds so that 400 persons get a graph (the server's default waits for 20 000 templates).
      const index = createFaceIndex({ dim, annMinSize: 200, annBatch: 50, expansionSearch: 64, centreGraph: dim === 512 });
      const snapshotDir = path.join(dir, 'index-snapshot');
      await rebuildIndex(store, index, 'm', { snapshotDir });
      const deps = { store, index } as unknown as DomainDeps; // deleteFacePerson uses only these two

      const mean = (vs: Float32Array[]) => {
        const m = new Float32Array(dim);
        for (const v of vs) for (let j = 0; j < dim; j++) m[j] += v[j];
        return m;
      };
      const [single, double, kept] = [ids[0], ids[1], ids[2]];
      const nodeOf = (id: string) => mean(faces.get(id)!);
      // Saved while they are enrolled, the snapshot holds them: a graph slot is (an int8 copy of) their node.
      await saveIndexSnapshot(store, index, snapshotDir);
      for (const id of [single, double, kept]) expect(closestSlot(snapshotDir, nodeOf(id))).toBeGreaterThan(0.99);

      await deleteFacePerson(deps, client, single);
      await deleteFacePerson(deps, client, double);
      expect(index.search(client, faces.get(single)![0], { mode: 'FAST', k: 5 }).map((h) => h.person)).not.toContain(single);
      const info = await saveIndexSnapshot(store, index, snapshotDir);
      // No slot holds anything like the erased nodes any more (the closest is some other person)…
      for (const id of [single, double]) expect(closestSlot(snapshotDir, nodeOf(id))).toBeLessThan(0.9);
      expect(closestSlot(snapshotDir, nodeOf(kept))).toBeGreaterThan(0.99);
      // …and no file holds their templates or node in any plain encoding.
      for (const v of [...faces.get(single)!, ...faces.get(double)!, nodeOf(double)]) expect(foundIn(snapshotDir, v)).toEqual([]);
      expect(info.scrubbed).toBe(2);
      expect(info.templates).toBe(398);
      const nodes = readdirSync(snapshotDir, { recursive: true }).filter((f) => String(f).endsWith('.nodes.json'));
      for (const f of nodes) {
        const text = readFileSync(path.join(snapshotDir, String(f)), 'utf8');
        expect(text).not.toContain(single);
        expect(text).not.toContain(double);
        expect(text).toContain(kept);
      }

      // …and the scrubbed snapshot still restores: the next start finds the others at once.
      const next = createFaceIndex({ dim, annMinSize: 200, annBatch: 50, expansionSearch: 64, centreGraph: dim === 512 });
      expect(await rebuildIndex(store, next, 'm', { snapshotDir })).toMatchObject({ persons: 398, restored: true });
      expect(next.search(client, faces.get(kept)![0], { mode: 'FAST', k: 1 })[0].person).toBe(kept);
    });
  }
});

describe.skipIf(process.platform !== 'linux')('float copy of int8 rows (reads the unlinked file through /proc/self/fd)', () => {
  it('lives in an unlinked file, and a deleted person’s vector is overwritten there at once', () => {
    const dim = 512;
    const dir = mkdtempSync(path.join(tmpdir(), 'facegate-floats-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const g = new FaceLikeGenerator({ dim, seed: 9 });
    const index = createFaceIndex({ dim, rows: 'i8', floatVectorsDir: dir, annMinSize: 1e9 });
    cleanups.push(() => index.close());
    const faces = Array.from({ length: 50 }, () => g.identity());
    faces.forEach((vector, i) => index.upsertPerson({ client: 'c', person: `p${i}`, collections: [], templates: [{ id: i + 1, vector }] }));
    // Nothing to find on disk by name: the file was unlinked when opened.
    expect(readdirSync(dir)).toEqual([]);
    // …but the process still holds it (Linux exposes it as /proc/self/fd/N → "… (deleted)").
    const fds = readdirSync('/proc/self/fd')
      .map((fd) => path.join('/proc/self/fd', fd))
      .filter((fd) => {
        try {
          return readlinkSync(fd).startsWith(path.join(dir, 'vectors-'));
        } catch {
          return false;
        }
      });
    expect(fds).toHaveLength(1);
    const bytes = () => readFileSync(fds[0]);
    const f32 = (v: Float32Array) => Buffer.from(new Float32Array(v).buffer);
    expect(bytes().includes(f32(faces[7]))).toBe(true);

    index.removePerson('c', 'p7');
    expect(bytes().includes(f32(faces[7]))).toBe(false);
    expect(bytes().includes(f32(faces[8]))).toBe(true);
    expect(index.search('c', faces[8], { mode: 'ACCURATE', k: 1 })[0]).toMatchObject({ person: 'p8', similarity: expect.closeTo(1, 6) });
  });
});
