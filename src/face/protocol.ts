// Messages between the engine (main thread) and its worker threads.
import type { ImageErrorCode } from './errors.js';
import type { AnalysisResult, AnalyzeOptions } from './types.js';

export type WorkerRequest =
  | { type: 'analyze'; id: number; images: Uint8Array[]; opts: AnalyzeOptions }
  /** Test hook: honoured only by workers started with `testHooks` (never by production engines). */
  | { type: 'crash' };

export type WorkerReply =
  | { type: 'ready'; loadMs: number }
  | { type: 'result'; id: number; result: AnalysisResult }
  | { type: 'error'; id: number; name: 'ImageError' | 'Error'; code?: ImageErrorCode; message: string; index?: number };
