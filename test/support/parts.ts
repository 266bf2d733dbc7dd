// The real parts the API runs on: one face engine per test file (models load once, ~2 s), a fresh index per app.
import { createFaceEngine, type WorkerFaceEngine } from '../../src/face/index.js';
import { createFaceIndex } from '../../src/index/index.js';
import type { FaceIndex } from '../../src/index/types.js';

export function newEngine(opts: { queueLimit?: number; tenantQueueLimit?: number } = {}): WorkerFaceEngine {
  return createFaceEngine({ workers: 1, ...opts });
}

export function newIndex(dim: number): FaceIndex {
  return createFaceIndex({ dim });
}
