// The face engine for evaluations, remembering its answers. Evaluations send the same photo many times (once per
// pair it belongs to, then again to enrol or to probe); the engine is deterministic, so its answer to the same bytes
// with the same options is reused instead of recomputed. Only the engine's work is remembered: every face choice,
// score and decision still happens in the use cases the routes call.
//
// With `cacheDir` (iterating on a rule, never for reported figures) the engine's full answer for each photo (every
// face, with thumbnails) is kept on disk across runs and cut to what a call asks for, as the engine itself cuts it:
// `maxFaces` keeps the largest faces, `thumbnails: false` drops thumbnails. Calls asking for liveness or attributes
// always reach the engine.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AnalysisResult, AnalyzeOptions, AnalyzedImage, DetectedFace, FaceEngine } from '../../src/face/types.js';

type Stored = Omit<AnalyzedImage, 'faces'> & { faces: (Omit<DetectedFace, 'embedding' | 'thumbnail'> & { embedding: number[]; thumbnail?: string })[] };

export function memoEngine(engine: FaceEngine, opts: { cacheDir?: string } = {}): FaceEngine & { calls: { engine: number; remembered: number } } {
  const memo = new Map<string, Promise<AnalysisResult>>();
  const calls = { engine: 0, remembered: 0 };
  const digest = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');
  if (opts.cacheDir) mkdirSync(opts.cacheDir, { recursive: true });

  async function fullImage(bytes: Uint8Array): Promise<AnalyzedImage> {
    const file = path.join(opts.cacheDir!, `${digest(bytes)}.json`);
    if (existsSync(file)) {
      calls.remembered++;
      const s: Stored = JSON.parse(readFileSync(file, 'utf8'));
      return {
        ...s,
        faces: s.faces.map((f) => ({ ...f, embedding: Float32Array.from(f.embedding), thumbnail: f.thumbnail ? new Uint8Array(Buffer.from(f.thumbnail, 'base64')) : undefined })),
      };
    }
    calls.engine++;
    const img = (await engine.analyze([bytes], { thumbnails: true })).images[0];
    const s: Stored = {
      ...img,
      faces: img.faces.map((f) => ({ ...f, embedding: Array.from(f.embedding), thumbnail: f.thumbnail ? Buffer.from(f.thumbnail).toString('base64') : undefined })),
    };
    writeFileSync(file, JSON.stringify(s));
    return img;
  }

  async function analyze(images: Uint8Array[], o: AnalyzeOptions = {}): Promise<AnalysisResult> {
    const { tenant: _tenant, ...rest } = o;
    if (opts.cacheDir && !rest.liveness && !rest.attributes) {
      const out: AnalyzedImage[] = [];
      for (const b of images) {
        const img = await fullImage(b);
        const faces = img.faces.slice(0, rest.maxFaces ?? img.faces.length).map((f) => (rest.thumbnails ? f : { ...f, thumbnail: undefined }));
        out.push({ ...img, faces });
      }
      return { images: out };
    }
    const key = JSON.stringify(rest) + images.map(digest).join(',');
    const hit = memo.get(key);
    if (hit) {
      calls.remembered++;
      return hit;
    }
    calls.engine++;
    const p = engine.analyze(images, o);
    memo.set(key, p);
    p.catch(() => memo.delete(key));
    return p;
  }

  return {
    get modelVersion() {
      return engine.modelVersion;
    },
    get dim() {
      return engine.dim;
    },
    ready: () => engine.ready(),
    isReady: () => engine.isReady(),
    analyze,
    similarity: (a, b) => engine.similarity(a, b),
    scoreFromCosine: (c) => engine.scoreFromCosine(c),
    cosineForScore: (s) => engine.cosineForScore(s),
    close: () => engine.close(),
    calls,
  };
}
