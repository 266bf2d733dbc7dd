// The face engine's contract with the rest of Facegate. Domain code depends on these types only.

/** Pixel rectangle in the decoded, EXIF-oriented image. */
import type { StageTimes } from './stages.js';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Point = [x: number, y: number];

export interface FaceQuality {
  /** Shorter side of the face box, in pixels of the oriented original. */
  faceSize: number;
  /** Normalised focus measure in [0, 1] (variance of the Laplacian on the aligned face). */
  sharpness: number;
  /** Head pose in degrees. */
  yaw: number;
  pitch: number;
  roll: number;
  /** Mean luminance of the face in [0, 1]. */
  brightness: number;
}

export interface LivenessResult {
  /** Probability-like score in [0, 1]: higher means a live person in front of the camera. */
  score: number;
  /** Named sub-scores in [0, 1] that went into the fused score (for audit and for error messages). */
  signals: Record<string, number>;
  /**
   * Set when the face gave no usable evidence either way (then `score` is 0 and never passes): `no_context` (cut
   * too tight around the face), `face_too_small`, `too_blurred`. docs/liveness.md, "No usable evidence".
   */
  reason?: 'no_context' | 'face_too_small' | 'too_blurred';
}

export interface DetectedFace {
  box: Box;
  /** 68-point (iBUG) landmarks in image pixels. */
  landmarks: Point[];
  detectionScore: number;
  quality: FaceQuality;
  /** L2-normalised template; compare only templates with the same `modelVersion`. */
  embedding: Float32Array;
  liveness?: LivenessResult;
  age?: number;
  gender?: 'M' | 'F';
  genderScore?: number;
  /** Small JPEG of the aligned face, when asked for. */
  thumbnail?: Uint8Array;
}

export interface AnalyzedImage {
  width: number;
  height: number;
  /** Largest face first. */
  faces: DetectedFace[];
}

export interface AnalyzeOptions {
  /** Per-face passive liveness, and (with two or more images) the capture-level multi-frame check. */
  liveness?: boolean;
  /** Age and gender estimates. */
  attributes?: boolean;
  /** JPEG thumbnail of each face. */
  thumbnails?: boolean;
  /** Keep at most this many faces per image (largest first). Default: all. */
  maxFaces?: number;
  /** Whose request this is (the client id): the engine pool queues each tenant's jobs apart and serves them in
   *  turn. Never reaches the worker. */
  tenant?: string;
}

export interface AnalysisResult {
  images: AnalyzedImage[];
  /**
   * With `liveness`: one score for the whole capture, fusing the largest face of every image; when two or more
   * images are given it includes the multi-frame 3-D motion check.
   */
  liveness?: LivenessResult;
  /** Milliseconds this job spent in each stage (stages.ts), for metrics and benchmarks; never sent to clients. */
  stages?: StageTimes;
}

export interface FaceEngine {
  /** Model and pipeline version stamped on every template, e.g. "faceapi-resnet34@1+align68@1". */
  readonly modelVersion: string;
  /** Embedding length. */
  readonly dim: number;
  /** Resolves when models are loaded in every worker. */
  ready(): Promise<void>;
  isReady(): boolean;
  /** Analyses the images of one request as one job. Rejects with ImageError / EngineBusyError. */
  analyze(images: Uint8Array[], opts?: AnalyzeOptions): Promise<AnalysisResult>;
  /** Calibrated match score in [0, 1] of two templates (monotonic in cosine similarity). */
  similarity(a: Float32Array, b: Float32Array): number;
  /** Same mapping from a cosine similarity, for scores coming out of the vector index. */
  scoreFromCosine(cosine: number): number;
  /** Inverse of scoreFromCosine: the cosine a `min_score` corresponds to (to prune index searches). */
  cosineForScore(score: number): number;
  close(): Promise<void>;
}
