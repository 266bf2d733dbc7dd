// The worker-pool engine on photos that always exist (face-api's demo samples): real models, real threads.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine, EngineBusyError, EngineFailure, ImageError, type WorkerFaceEngine } from '../../src/face/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sample = (n: number) => readFileSync(path.join(repoRoot, 'node_modules/@vladmandic/face-api/demo', `sample${n}.jpg`));

describe('face engine (worker pool, demo photos)', () => {
  let engine: WorkerFaceEngine;
  beforeAll(async () => {
    engine = createFaceEngine({ workers: 1, queueLimit: 2, testHooks: true });
    await engine.ready();
  });
  afterAll(async () => {
    await engine.close();
  });

  it('finds every face with landmarks, quality and an L2-normalised template', async () => {
    const { images } = await engine.analyze([sample(6)], { attributes: true, thumbnails: true });
    expect(images).toHaveLength(1);
    const { width, height, faces } = images[0];
    expect([width, height]).toEqual([1920, 1537]);
    expect(faces).toHaveLength(4);
    for (const f of faces) {
      expect(f.landmarks).toHaveLength(68);
      expect(f.embedding).toBeInstanceOf(Float32Array);
      expect(f.embedding).toHaveLength(engine.dim);
      expect(Math.hypot(...f.embedding)).toBeCloseTo(1, 4);
      expect(f.box.width).toBeGreaterThan(100);
      expect(f.quality.sharpness).toBeGreaterThan(0);
      expect(f.quality.sharpness).toBeLessThanOrEqual(1);
      expect(f.age).toBeGreaterThan(5);
      expect(['M', 'F']).toContain(f.gender);
      expect(f.thumbnail?.subarray(0, 2)).toEqual(new Uint8Array([0xff, 0xd8]));
      // Landmarks lie inside (or at the rim of) the detected box.
      const cx = f.landmarks[30][0], cy = f.landmarks[30][1];
      expect(cx).toBeGreaterThan(f.box.x);
      expect(cx).toBeLessThan(f.box.x + f.box.width);
      expect(cy).toBeGreaterThan(f.box.y);
      expect(cy).toBeLessThan(f.box.y + f.box.height);
    }
    // Largest face first.
    const areas = faces.map((f) => f.box.width * f.box.height);
    expect([...areas].sort((a, b) => b - a)).toEqual(areas);
    // Different people in one photo do not match at the default threshold.
    for (let i = 0; i < faces.length; i++) for (let j = i + 1; j < faces.length; j++) {
      expect(engine.similarity(faces[i].embedding, faces[j].embedding)).toBeLessThan(0.8);
    }
  });

  it('gives the same person the same template across a rescaled, recompressed copy', async () => {
    const original = sample(2);
    const copy = await sharp(original).resize(900).jpeg({ quality: 70 }).toBuffer();
    const { images } = await engine.analyze([original, copy]);
    expect(images[1].faces).toHaveLength(images[0].faces.length);
    for (const a of images[0].faces) {
      const best = Math.max(...images[1].faces.map((b) => engine.similarity(a.embedding, b.embedding)));
      expect(best).toBeGreaterThan(0.9);
    }
  });

  it('finds no face where there is none', async () => {
    const plain = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#6a8caf' } }).jpeg().toBuffer();
    const { images } = await engine.analyze([plain]);
    expect(images[0].faces).toEqual([]);
  });

  it('rejects a bad image with its index in the request', async () => {
    const err = await engine.analyze([sample(1), Buffer.from('not an image at all')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).code).toBe('not_an_image');
    expect((err as ImageError).index).toBe(1);
  });

  it('answers EngineBusyError when the queue is full', async () => {
    const img = sample(3);
    const jobs = Array.from({ length: 6 }, () => engine.analyze([img]).then(() => 'done', (e: unknown) => e));
    const results = await Promise.all(jobs);
    const busy = results.filter((r) => r instanceof EngineBusyError);
    expect(busy.length).toBeGreaterThan(0);
    expect(results.filter((r) => r === 'done').length).toBeGreaterThanOrEqual(3); // 1 running + 2 queued
  });

  it('survives a worker crash: the job fails cleanly and a new worker takes over', async () => {
    const running = engine.analyze([sample(4), sample(5), sample(6)]);
    await new Promise((r) => setTimeout(r, 50));
    engine.crashWorkerForTests();
    await expect(running).rejects.toBeInstanceOf(EngineFailure);
    const { images } = await engine.analyze([sample(2)]);
    expect(images[0].faces.length).toBeGreaterThan(0);
  });

  it('maps cosine to score monotonically and back', () => {
    let prev = -1;
    for (let c = -1; c <= 1.0001; c += 0.01) {
      const s = engine.scoreFromCosine(c);
      expect(s).toBeGreaterThanOrEqual(prev);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
      prev = s;
    }
    for (const s of [0.5, 0.65, 0.8, 0.9, 0.95]) expect(engine.scoreFromCosine(engine.cosineForScore(s))).toBeCloseTo(s, 6);
  });
});

describe('face engine without test hooks', () => {
  it('refuses the crash hook', async () => {
    const engine = createFaceEngine({ workers: 1 });
    try {
      expect(() => engine.crashWorkerForTests()).toThrow();
    } finally {
      await engine.close();
    }
  });
});
