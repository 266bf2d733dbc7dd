// Liveness sessions: the relying party's backend creates a session (its policy: steps, score floor, validity) with
// its client token and hands the browser a capture credential good for that one session's frames; the browser
// posts the camera frames, and the server decides whether one live person performed the challenge. A session is
// tenant-scoped, expires, has a retry budget, and can be used once by a flow (enrolment, search-live-face), within
// its validity after success. The server's floors (DomainSettings.livenessSessionFloors) bound every policy.
// The per-frame judgement is src/domain/challenge.ts; the states, src/domain/livenessSessionStates.ts; here:
// lifecycle, storage, identity, 3-D motion, passive cues.
import { randomBytes, randomInt } from 'node:crypto';
import { motionEvidence } from '../face/motion3d.js';
import type { DetectedFace, Point } from '../face/types.js';
import { newObjectId } from './ids.js';
import type { LivenessSessionRepo } from './livenessSessionRepo.js';
import type { LivenessFrameRecord, LivenessSessionRecord, LivenessSessionStatus } from './ports.js';
import { CHALLENGE_STEPS, randomSteps, verifyChallenge, type ChallengeStep, type FrameMeasure, type StepOutcome } from './challenge.js';
import type { DomainDeps } from './deps.js';
import { ConflictError, InvalidFieldError, NotFoundError } from './errors.js';
import { analyseImages, type InputImage } from './faces.js';
import { isOpen } from './livenessSessionStates.js';
import { hashToken } from './tokens.js';

export const SESSION_LIMITS = {
  defaultExpirySeconds: 180,
  maxExpirySeconds: 600,
  minExpirySeconds: 10,
  defaultAttempts: 3,
  maxAttempts: 5,
  /** Frames one POST may carry (one engine job). */
  framesPerCall: 10,
  /** Frames one attempt may hold before it is failed for never completing. */
  framesPerAttempt: 120,
  /** Slack for the client's clock: frames may span at most the session's age plus this. */
  clockSlackMs: 2000,
  /** Seconds a SUCCEEDED session stays usable by a flow (enrolment, search-live-face) after it succeeded. */
  defaultValidForSeconds: 300,
  minValidForSeconds: 10,
  maxValidForSeconds: 3600,
};

/** The capture credential's prefix: the auth hook tells it from a client token by it. */
export const CAPTURE_TOKEN_PREFIX = 'fgls_';

const HEAD_MOVES: readonly ChallengeStep[] = ['turn_left', 'turn_right', 'look_up', 'look_down'];

/**
 * Identity, two ways, each at a score two different people's faces reach once in a hundred (docs/calibration.md):
 * every frame against the frame before it, so a face swapped in between two frames fails at once, and every frame
 * against the reference (frontal) frame. Measured on the live webcam capture (10 fps, head turned up to 40°):
 * frames 0.1 / 0.2 / 0.3 s apart score at least 0.75 / 0.51 / 0.40, and every frame scores at least 0.51 against
 * the most frontal one; a capture page sends frames a few tenths of a second apart.
 */
export const NEIGHBOUR_MIN_SCORE = 0.3;
export const REFERENCE_MIN_SCORE = 0.3;

/**
 * Default passive floor of a session (`min_score`): fitted by scripts/eval-sessions.ts on the FIT part of the live
 * capture and its phone replay (docs/liveness-sessions.md, "Evaluation"). Lower than LIVENESS_MIN_SCORE for single
 * photos because a session's score averages every frame of a moving head (turned and blurred frames score lower)
 * and the challenge itself carries much of the evidence. Refit when the passive model changes: with the
 * network-led passive score of docs/liveness.md the live webcam capture's frames score 0.02-0.15 and its phone
 * replay's about 0.0005 (refitted to 0.02, best range 0.02-0.02, on one recording of each: a weak fit).
 */
export const SESSION_MIN_SCORE = 0.02;

/**
 * The server's floors when the operator sets none: no session below SESSION_MIN_SCORE, and at least two steps of
 * which one moves the head (the 3-D motion check needs a head that turns; a smile or a blink alone is what a
 * replayed video shows most easily).
 */
export const DEFAULT_SESSION_FLOORS = { minScore: SESSION_MIN_SCORE, minSteps: 2 };

/** The floors for `client`'s sessions: the server's, raised by the client's own where the operator set some. */
export async function sessionFloors(deps: DomainDeps, client: string): Promise<{ minScore: number; minSteps: number }> {
  const server = deps.settings.livenessSessionFloors ?? DEFAULT_SESSION_FLOORS;
  const byName = deps.settings.livenessSessionTenantFloors;
  if (!byName || Object.keys(byName).length === 0) return server;
  const name = (await deps.store.clients.get(client))?.name;
  const own = name !== undefined ? byName[name] : undefined;
  return { minScore: Math.max(server.minScore, own?.minScore ?? 0), minSteps: Math.max(server.minSteps, own?.minSteps ?? 0) };
}

/**
 * Stream coherence: the first frames of an attempt (the neutral pose, a fraction of a second apart) must be nearly
 * the same face image, as consecutive frames of one camera are: calibrated similarity at least this between each
 * pair. Different photos of one person (a series arranged to mimic the challenge) score lower; measured in
 * docs/liveness-sessions.md ("What an attempt must show").
 */
export const STREAM_MIN_SCORE = 0.9;

/**
 * The 3-D motion check over the challenge's key frames must not lean "flat picture" (a logit below this): a
 * photo or a screen tilted in front of the camera moves as a plane.
 */
export const MOTION_MIN_LOGIT = 0;

export type SessionFailureReason =
  | 'multiple_faces'
  | 'face_lost'
  | 'bad_timestamps'
  | 'wrong_order'
  | 'discontinuous'
  | 'identity_changed'
  | 'not_a_stream'
  | 'flat_motion'
  | 'passive_liveness'
  | 'too_many_frames';

/** What the session row keeps as its verdict (`result`). */
export interface SessionResult {
  steps: { name: ChallengeStep; passed: boolean }[];
  score: number | null;
  failure?: { reason: SessionFailureReason; message: string };
  /** Stored frame ids of the reference and audit frames (their images survive the verdict). */
  reference?: number;
  audit?: { step: string; frame: number }[];
}

/** Stored per frame: what the verification needs, never the pixels (those are kept apart until the verdict). */
interface FrameAnalysis extends Omit<FrameMeasure, 'timestampMs'> {
  width: number;
  height: number;
}

export interface SessionView {
  session: LivenessSessionRecord;
  result: SessionResult | null;
  /** Frames of the current attempt. */
  framesReceived: number;
  referenceImage?: Uint8Array;
  auditImages: { step: string; image: Uint8Array }[];
  /** The browser's capture credential: in the creation's answer only (it is stored hashed). */
  captureToken?: string;
}

/** A flow was given a session it cannot use (409). */
export class LivenessSessionStateError extends ConflictError {
  override readonly name = 'LivenessSessionStateError';
  constructor(readonly status: LivenessSessionStatus | 'CONSUMED', message: string) {
    super(message);
  }
}

export interface CreateSessionInput {
  steps?: ChallengeStep[];
  expires_in?: number;
  max_attempts?: number;
  min_score?: number;
  valid_for?: number;
  allowed_origin?: string;
}

const nowOf = (deps: DomainDeps) => deps.now?.() ?? new Date();
const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** A random challenge the floors allow: at least `minSteps` (2-4 by default) distinct steps, one a head move. */
function randomChallenge(minSteps: number): ChallengeStep[] {
  const lo = Math.max(2, minSteps);
  const n = Math.min(CHALLENGE_STEPS.length, randomInt(lo, Math.max(5, lo + 1)));
  for (;;) {
    const steps = randomSteps(n, (max) => randomInt(max));
    if (steps.some((s) => HEAD_MOVES.includes(s))) return steps;
  }
}

/** The policy a request asks for, checked against the server's floors (a request can raise them, never lower). */
function checkPolicy(floors: { minScore: number; minSteps: number }, input: CreateSessionInput): void {
  if (input.min_score !== undefined && input.min_score < floors.minScore) {
    throw new InvalidFieldError('min_score', `"min_score" must be at least ${floors.minScore}, the floor for this client's liveness sessions`);
  }
  if (input.steps?.some((s) => !CHALLENGE_STEPS.includes(s))) throw new InvalidFieldError('steps', `"steps" must be among ${CHALLENGE_STEPS.join(', ')}`);
  if (input.steps && new Set(input.steps).size !== input.steps.length) throw new InvalidFieldError('steps', '"steps" must not repeat a step');
  if (input.steps && input.steps.length < floors.minSteps) {
    throw new InvalidFieldError('steps', `"steps" must hold at least ${floors.minSteps} steps, the floor for this client's liveness sessions`);
  }
  if (input.steps && !input.steps.some((s) => HEAD_MOVES.includes(s))) {
    throw new InvalidFieldError('steps', `"steps" must hold at least one head movement (${HEAD_MOVES.join(', ')}): a smile or a blink alone is easy to replay`);
  }
  if (input.allowed_origin !== undefined) {
    let origin: string | null = null;
    try {
      const u = new URL(input.allowed_origin);
      origin = u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
    } catch {
      origin = null;
    }
    if (origin !== input.allowed_origin) throw new InvalidFieldError('allowed_origin', '"allowed_origin" must be a web origin such as https://shop.example (scheme, host and port only)');
  }
}

/**
 * `POST …/liveness/sessions` with the relying party's client token: the session and, once, the capture credential
 * the browser will use for its frames (only its SHA-256 is stored).
 */
export async function createSession(deps: DomainDeps, client: string, input: CreateSessionInput): Promise<SessionView> {
  const now = nowOf(deps);
  const floors = await sessionFloors(deps, client);
  checkPolicy(floors, input);
  // Abandoned sessions: mark them expired and drop their frames (biometric data) whenever a new one starts.
  await deps.store.livenessSessions.expireStale(now.toISOString());
  const expiresIn = input.expires_in ?? SESSION_LIMITS.defaultExpirySeconds;
  const steps = input.steps ?? randomChallenge(floors.minSteps);
  const captureToken = CAPTURE_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const session = await deps.store.livenessSessions.create({
    id: newObjectId(),
    client,
    steps,
    nonce: randomBytes(16).toString('hex'),
    minScore: input.min_score ?? Math.max(SESSION_MIN_SCORE, floors.minScore),
    maxAttempts: input.max_attempts ?? SESSION_LIMITS.defaultAttempts,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + expiresIn * 1000).toISOString(),
    captureTokenHash: hashToken(captureToken),
    validFor: input.valid_for ?? SESSION_LIMITS.defaultValidForSeconds,
    allowedOrigin: input.allowed_origin ?? null,
  });
  return { session, result: null, framesReceived: 0, auditImages: [], captureToken };
}

export type CaptureAuth = { session: LivenessSessionRecord } | 'invalid' | 'expired';

/**
 * Checks a browser's capture credential: the session it belongs to, while that session has not expired. What the
 * credential may do (its own session's frames and status, nothing else) is the HTTP layer's to enforce.
 */
export async function authenticateCapture(repo: LivenessSessionRepo, bearer: string, now: Date = new Date()): Promise<CaptureAuth> {
  if (!bearer.startsWith(CAPTURE_TOKEN_PREFIX) || bearer.length > 128) return 'invalid';
  const session = await repo.findByCaptureHash(hashToken(bearer));
  if (!session) return 'invalid';
  return now.getTime() >= Date.parse(session.expiresAt) ? 'expired' : { session };
}

const isExpired = (s: LivenessSessionRecord, now: Date) => isOpen(s.status) && now.getTime() >= Date.parse(s.expiresAt);

/** The session, expired on the way if its time is up. 404 for another tenant's or an unknown id. */
async function load(deps: DomainDeps, client: string, id: string): Promise<LivenessSessionRecord> {
  const s = await deps.store.livenessSessions.get(client, id);
  if (!s) throw new NotFoundError('liveness session');
  const now = nowOf(deps);
  if (isExpired(s, now)) {
    const expired = await deps.store.livenessSessions.transition(client, id, 'expire', {}, now.toISOString());
    await deps.store.livenessSessions.pruneFrames(client, id, []);
    return expired ?? (await deps.store.livenessSessions.get(client, id))!;
  }
  return s;
}

async function view(deps: DomainDeps, session: LivenessSessionRecord): Promise<SessionView> {
  const result = session.result as SessionResult | null;
  const open = isOpen(session.status);
  const frames = open
    ? await deps.store.livenessSessions.listFrames(session.client, session.id, { attempt: session.failedAttempts })
    : await deps.store.livenessSessions.listFrames(session.client, session.id, { roles: true, images: true });
  const byId = new Map(frames.map((f) => [f.id, f]));
  const referenceImage = !open && result?.reference !== undefined ? byId.get(result.reference)?.image : undefined;
  const auditImages = open
    ? []
    : (result?.audit ?? []).flatMap((a) => {
        const image = byId.get(a.frame)?.image;
        return image ? [{ step: a.step, image }] : [];
      });
  return { session, result, framesReceived: open ? frames.length : 0, referenceImage, auditImages };
}

export async function getSession(deps: DomainDeps, client: string, id: string): Promise<SessionView> {
  return view(deps, await load(deps, client, id));
}

function statusError(s: LivenessSessionRecord): LivenessSessionStateError {
  switch (s.status) {
    case 'EXPIRED':
      return new LivenessSessionStateError('EXPIRED', 'liveness_session_expired: the session expired before it succeeded');
    case 'FAILED':
      return new LivenessSessionStateError('FAILED', 'liveness_session_failed: the session failed its liveness challenge');
    case 'SUCCEEDED':
      return new LivenessSessionStateError('SUCCEEDED', 'liveness_session_finished: the session already succeeded; no more frames');
    default:
      return new LivenessSessionStateError(s.status, 'liveness_session_not_finished: the session has not succeeded yet');
  }
}

function mouthAndEyes(l: Point[]): { mouth: number; ear: number } {
  const d = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const eye = (i: number) => (d(l[i + 1], l[i + 5]) + d(l[i + 2], l[i + 4])) / (2 * d(l[i], l[i + 3]));
  return { mouth: d(l[48], l[54]) / d(l[36], l[45]), ear: (eye(36) + eye(42)) / 2 };
}

export function analysisOf(image: { width: number; height: number; faces: DetectedFace[] }): { analysis: FrameAnalysis; embedding: Float32Array | null } {
  const face = image.faces.length === 1 ? image.faces[0] : undefined;
  const base = { width: image.width, height: image.height, faces: image.faces.length };
  if (!face) return { analysis: base, embedding: null };
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const landmarks = face.landmarks.map(([x, y]) => [r1(x), r1(y)] as Point);
  return {
    analysis: {
      ...base,
      yaw: face.quality.yaw,
      pitch: face.quality.pitch,
      ...(landmarks.length === 68 ? mouthAndEyes(face.landmarks) : {}),
      passive: face.liveness?.score,
      landmarks,
      box: { x: r1(face.box.x), y: r1(face.box.y), width: r1(face.box.width), height: r1(face.box.height) },
    },
    embedding: face.embedding,
  };
}

const measureOf = (f: LivenessFrameRecord): FrameMeasure => ({ ...(f.analysis as FrameAnalysis), timestampMs: f.timestampMs });

const logit = (p: number) => {
  const q = Math.min(0.99, Math.max(0.01, p));
  return Math.log(q / (1 - q));
};

/** Passive liveness of the attempt: the engine's per-frame scores, averaged in the logit (as its capture score). */
export function passiveScore(frames: FrameMeasure[]): number | null {
  const scores = frames.flatMap((f) => (f.faces === 1 && typeof f.passive === 'number' ? [f.passive] : []));
  if (scores.length === 0) return null;
  const mean = scores.reduce((s, p) => s + logit(p), 0) / scores.length;
  return 1 / (1 + Math.exp(-mean));
}

export interface AttemptVerdict {
  outcome: 'in_progress' | 'succeeded' | 'failed';
  steps: StepOutcome[];
  score: number | null;
  failure?: { reason: SessionFailureReason; message: string };
  reference?: number;
  /** Frame indices worth keeping for audit, with the step they show. */
  audit: { step: string; frame: number }[];
}

/**
 * Judges the frames of one attempt (capture order): the challenge itself, then, once it is complete, identity
 * across frames, 3-D motion over the key frames, and the passive cues of every frame. Exported for the evaluation.
 */
export function judgeAttempt(
  frames: FrameMeasure[],
  embeddings: (Float32Array | null)[],
  steps: ChallengeStep[],
  opts: { similarity: (a: Float32Array, b: Float32Array) => number; minScore: number },
): AttemptVerdict {
  const c = verifyChallenge(frames, steps);
  const audit = c.steps.flatMap((s) => (s.frame !== undefined ? [{ step: s.name, frame: s.frame }] : []));
  const verdict = (outcome: AttemptVerdict['outcome'], extra: Partial<AttemptVerdict> = {}): AttemptVerdict => ({
    outcome,
    steps: c.steps,
    score: null,
    reference: c.reference,
    audit,
    ...extra,
  });
  if (c.failure) return verdict('failed', { failure: c.failure });

  // Identity: checked as frames arrive, so a swap of faces half-way fails at once.
  const ref = c.reference !== undefined ? embeddings[c.reference] : null;
  let previous: Float32Array | undefined;
  for (const i of c.usable) {
    const e = embeddings[i];
    if (!e) continue;
    if ((ref && opts.similarity(ref, e) < REFERENCE_MIN_SCORE) || (previous && opts.similarity(previous, e) < NEIGHBOUR_MIN_SCORE)) {
      return verdict('failed', { failure: { reason: 'identity_changed', message: 'the frames do not all show the same person' } });
    }
    previous = e;
  }
  const coherence = neutralCoherence(c.usable, embeddings, opts.similarity);
  if (coherence !== null && coherence < STREAM_MIN_SCORE) {
    return verdict('failed', { failure: { reason: 'not_a_stream', message: 'the first frames are not consecutive frames of one camera' } });
  }
  if (!c.completed) return verdict('in_progress');

  const key = [c.reference!, ...audit.map((a) => a.frame)];
  const motion = motionEvidence(key.map((i) => frames[i].landmarks ?? []));
  if (motion && motion.logit < MOTION_MIN_LOGIT) {
    return verdict('failed', { failure: { reason: 'flat_motion', message: 'the face moved like a flat picture, not a head' } });
  }
  const score = passiveScore(c.usable.map((i) => frames[i]));
  const rounded = score === null ? null : round(score);
  if (score === null || score < opts.minScore) {
    return verdict('failed', { score: rounded, failure: { reason: 'passive_liveness', message: 'the frames look like a presentation attack' } });
  }
  return verdict('succeeded', { score: rounded });
}

/** Lowest similarity between the first three frames with a face (null with fewer). Exported for the evaluation. */
export function neutralCoherence(
  usable: number[],
  embeddings: (Float32Array | null)[],
  similarity: (a: Float32Array, b: Float32Array) => number,
): number | null {
  const e = usable.slice(0, 3).map((i) => embeddings[i]);
  if (e.length < 3 || e.some((x) => !x)) return null;
  return Math.min(similarity(e[0]!, e[1]!), similarity(e[0]!, e[2]!), similarity(e[1]!, e[2]!));
}

export interface FrameInput {
  image: InputImage;
  timestampMs: number;
}

/** `POST …/sessions/{id}/frames`: analyses the frames, adds them to the current attempt, and judges it. */
export async function postFrames(deps: DomainDeps, client: string, id: string, input: FrameInput[]): Promise<SessionView> {
  const before = await load(deps, client, id);
  if (!isOpen(before.status)) throw statusError(before);
  // The slow part, outside any transaction and through the tenant's engine queue like every other request; a frame
  // the engine cannot read fails the call, not the attempt.
  const result = await analyseImages(deps.engine, input.map((f) => f.image), { liveness: true, maxFaces: 3, tenant: client });
  const added = input.map((f, i) => ({ ...analysisOf(result.images[i]), timestampMs: f.timestampMs, image: f.image.bytes }));
  const outcome = await deps.store.transaction(async (tx) => {
    // One post judged at a time per session, whichever instance took it (a PostgreSQL advisory lock held to the
    // commit; SQLite has one writer): two posts never number their frames from the same count.
    await tx.locks.livenessSession(client, id);
    const session = await tx.livenessSessions.get(client, id);
    if (!session) throw new NotFoundError('liveness session');
    const now = nowOf(deps);
    if (isExpired(session, now)) {
      const expired = await tx.livenessSessions.transition(client, id, 'expire', {}, now.toISOString());
      await tx.livenessSessions.pruneFrames(client, id, []);
      return { refused: expired ?? session };
    }
    if (!isOpen(session.status)) return { refused: session };
    return { judged: await judgeAndRecord(deps, tx.livenessSessions, session, added, now) };
  });
  if (outcome.refused) throw statusError(outcome.refused);
  return view(deps, outcome.judged!);
}

/** Inside postFrames' transaction: stores the new frames, judges the attempt, and moves the session accordingly. */
async function judgeAndRecord(
  deps: DomainDeps,
  repo: LivenessSessionRepo,
  session: LivenessSessionRecord,
  added: { analysis: FrameAnalysis; embedding: Float32Array | null; timestampMs: number; image: Uint8Array }[],
  now: Date,
): Promise<LivenessSessionRecord> {
  const { client, id } = session;
  const at = now.toISOString();
  const attempt = session.failedAttempts;
  const existing = await repo.listFrames(client, id, { attempt });
  await repo.addFrames(
    client,
    id,
    added.map((f, i) => ({ attempt, seq: existing.length + i, timestampMs: f.timestampMs, analysis: f.analysis, embedding: f.embedding, image: f.image })),
  );
  const frames = await repo.listFrames(client, id, { attempt });
  const measures = frames.map(measureOf);

  const elapsed = now.getTime() - Date.parse(session.createdAt);
  let verdict = judgeAttempt(measures, frames.map((f) => f.embedding), session.steps as ChallengeStep[], {
    similarity: (a, b) => deps.engine.similarity(a, b),
    minScore: session.minScore,
  });
  if (verdict.outcome !== 'failed' && measures.length > 1 && measures[measures.length - 1].timestampMs - measures[0].timestampMs > elapsed + SESSION_LIMITS.clockSlackMs) {
    verdict = { ...verdict, outcome: 'failed', failure: { reason: 'bad_timestamps', message: 'the frames span more time than the session has existed' } };
  }
  if (verdict.outcome === 'in_progress' && frames.length >= SESSION_LIMITS.framesPerAttempt) {
    verdict = { ...verdict, outcome: 'failed', failure: { reason: 'too_many_frames', message: `the challenge was not completed within ${SESSION_LIMITS.framesPerAttempt} frames` } };
  }

  const stored: SessionResult = {
    steps: verdict.steps.map((s) => ({ name: s.name, passed: s.passed })),
    score: verdict.score,
    ...(verdict.failure ? { failure: verdict.failure } : {}),
  };
  if (verdict.outcome === 'in_progress') {
    return (await repo.transition(client, id, 'progress', { result: stored }, at)) ?? session;
  }
  const finalAttempt = verdict.outcome === 'succeeded' || attempt + 1 >= session.maxAttempts;
  if (!finalAttempt) {
    // A failed attempt with budget left: its frames go, the client starts the same challenge again.
    const retried = await repo.transition(client, id, 'retry', { failedAttempts: attempt + 1, result: stored }, at);
    await repo.pruneFrames(client, id, []);
    return retried ?? session;
  }
  const keep = [
    ...(verdict.reference !== undefined ? [{ id: frames[verdict.reference].id, role: 'reference' }] : []),
    ...verdict.audit.map((a) => ({ id: frames[a.frame].id, role: 'audit' })),
  ];
  const final: SessionResult = {
    ...stored,
    ...(verdict.reference !== undefined ? { reference: frames[verdict.reference].id } : {}),
    audit: verdict.audit.map((a) => ({ step: a.step, frame: frames[a.frame].id })),
  };
  const finished =
    verdict.outcome === 'succeeded'
      ? await repo.transition(client, id, 'succeed', { result: final }, at)
      : await repo.transition(client, id, 'fail', { failedAttempts: attempt + 1, result: final }, at);
  await repo.pruneFrames(client, id, keep);
  return finished ?? session;
}

/** A session a flow may use: its reference frame and score, and `consume()`, which marks it used (once). */
export interface SessionClaim {
  reference: InputImage;
  score: number;
  /** Marks the session used; a 409 liveness_session_used when another request used it first. */
  consume(): Promise<void>;
}

/**
 * For the flows (enrolment, search-live-face, person liveness): checks that the session may be used and hands over
 * its reference frame. Only an unused SUCCEEDED session, within its validity after success, whose score reaches both
 * its own floor and the server's (which may have been raised since it was created), is handed over; anything else
 * is a 409 that says why. The flow calls `consume()` once its own checks of the frame passed (face found, engine
 * not busy), so a refused enrolment does not use the session up; the guarded write keeps it single-use.
 */
export async function claimSession(deps: DomainDeps, client: string, id: string): Promise<SessionClaim> {
  const session = await load(deps, client, id);
  if (session.status !== 'SUCCEEDED') throw statusError(session);
  const used = () => new LivenessSessionStateError('CONSUMED', 'liveness_session_used: the session was already used');
  if (session.consumedAt) throw used();
  const now = nowOf(deps);
  const succeededAt = Date.parse(session.succeededAt ?? session.updatedAt);
  if (now.getTime() >= succeededAt + session.validFor * 1000) {
    throw new LivenessSessionStateError('EXPIRED', `liveness_session_expired: the session succeeded more than its valid_for (${session.validFor} s) ago`);
  }
  const v = await view(deps, session);
  const score = v.result?.score ?? null;
  const floor = Math.max(session.minScore, (await sessionFloors(deps, client)).minScore);
  if (score === null || score < floor) {
    throw new LivenessSessionStateError('FAILED', `liveness_session_failed: the session's liveness score is below ${floor}, the floor it must reach`);
  }
  if (!v.referenceImage) throw new LivenessSessionStateError('FAILED', 'liveness_session_failed: the session kept no reference frame');
  return {
    reference: { field: 'liveness_session_id', bytes: v.referenceImage },
    score,
    consume: async () => {
      if (!(await deps.store.livenessSessions.transition(client, id, 'consume', {}, nowOf(deps).toISOString()))) throw used();
    },
  };
}
