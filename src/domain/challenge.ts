// Challenge-response verification of one liveness attempt: given what the engine measured on each frame (in the
// order the camera took them), did one person, in every frame alone, perform the requested steps in the requested
// order with real amplitudes, within plausible timing? Pure: no engine, no store (src/domain/livenessSessions.ts
// feeds it; scripts/eval-sessions.ts measures it). Thresholds and why: docs/liveness-sessions.md.
import type { Point } from '../face/types.js';

export const CHALLENGE_STEPS = ['turn_left', 'turn_right', 'look_up', 'look_down', 'smile', 'blink'] as const;
export type ChallengeStep = (typeof CHALLENGE_STEPS)[number];

/** What the engine measured on one frame; pose, mouth and eyes of its only face (absent when it had none). */
export interface FrameMeasure {
  timestampMs: number;
  /** Faces found in the frame. */
  faces: number;
  /** Engine head pose, degrees: yaw > 0 = nose towards the image's right, pitch > 0 = looking up. */
  yaw?: number;
  pitch?: number;
  /** Mouth width over the outer eye-corner distance (grows with a smile). */
  mouth?: number;
  /** Eye aspect ratio, both eyes averaged (drops when the eyes close). */
  ear?: number;
  /** The engine's passive liveness score of the face, in [0, 1]. */
  passive?: number;
  landmarks?: Point[];
  /** The frame's size and the face box, in pixels. */
  width?: number;
  height?: number;
  box?: { x: number; y: number; width: number; height: number };
}

/**
 * Amplitudes are relative to the person's own neutral pose (the first frames): the engine's pose is a generic-head
 * fit, so a face looking straight at a camera placed off-axis reads 10-20° off zero.
 */
export const CHALLENGE = {
  /** Head turn beyond this many degrees of yaw from neutral (and back within `back`). */
  yaw: 20,
  /** Look up / down beyond this many degrees of pitch (the pitch fit is noisier than yaw). */
  pitch: 20,
  /**
   * A movement that was not asked for fails the attempt only beyond this many degrees: a margin over `yaw` and
   * `pitch`, so that a neutral pose read a few degrees off (the pose fit is noisy) or a half-hearted glance is not
   * taken for a wrong move.
   */
  wrongMove: 30,
  /**
   * …and only when the engine's absolute pose agrees (at least this many degrees off-axis the same way): returning
   * from a neutral pose that was itself off-axis (the person was looking up while the first frames were taken) is
   * no move at all.
   */
  wrongMoveAbsolute: 10,
  /** "Back" to neutral on the step's own axis. */
  back: 12,
  /** Smile: mouth width at least this multiple of neutral, on this many frames. */
  smile: 1.12,
  smileFrames: 2,
  /** Blink: eye aspect ratio below this share of neutral, then above `blinkOpen` again. */
  blink: 0.7,
  blinkOpen: 0.85,
  /** Frames (with one face) whose median makes the neutral pose. */
  neutralFrames: 3,
  /** Consecutive timestamps at least this far apart (a camera above 50 fps is not what a browser gives). */
  minGapMs: 20,
  /**
   * Continuity between consecutive frames with a face: a camera stream keeps its size, and a face does not jump
   * (size ratio within this factor, centre shift within `maxShift` face sizes); a series of different photos does.
   */
  maxScale: 1.5,
  maxShift: 1,
  /** Share of frames allowed to hold no face (motion blur at the peak of a turn). */
  maxFaceless: 0.5,
} as const;

export type FailureReason =
  | 'multiple_faces'
  | 'face_lost'
  | 'bad_timestamps'
  | 'wrong_order'
  | 'discontinuous';

export interface StepOutcome {
  name: ChallengeStep;
  passed: boolean;
  /** Index (into the frames given) of the frame at the step's peak. */
  frame?: number;
}

export interface ChallengeOutcome {
  steps: StepOutcome[];
  /** Every step performed, in order. */
  completed: boolean;
  /** Set when the attempt cannot succeed any more, whatever frames follow. */
  failure?: { reason: FailureReason; message: string };
  /** Frames that hold exactly one face. */
  usable: number[];
  /** Index of the neutral pose's most frontal frame (the reference image), when there is one. */
  reference?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Action = 'turn_left' | 'turn_right' | 'look_up' | 'look_down' | null;

const isHead = (s: ChallengeStep) => s === 'turn_left' || s === 'turn_right' || s === 'look_up' || s === 'look_down';

/**
 * The person's own left and right: a camera that is not mirrored sees a head turning to its own left with the nose
 * towards the image's right, where the engine's yaw is positive.
 */
function headAction(dy: number, dp: number, yaw: number = CHALLENGE.yaw, pitch: number = CHALLENGE.pitch): Action {
  if (Math.abs(dy) >= yaw) return dy > 0 ? 'turn_left' : 'turn_right';
  if (Math.abs(dp) >= pitch) return dp > 0 ? 'look_up' : 'look_down';
  return null;
}

function unaskedMove(a: Action, f: FrameMeasure): Action {
  const t = CHALLENGE.wrongMoveAbsolute;
  const agrees =
    (a === 'turn_left' && f.yaw! >= t) || (a === 'turn_right' && f.yaw! <= -t) || (a === 'look_up' && f.pitch! >= t) || (a === 'look_down' && f.pitch! <= -t);
  return agrees ? a : null;
}

/**
 * Checks the frames of one attempt against the steps. Frames must be in capture order. A head movement (turn or
 * look) other than the one asked for, or than the one just done (people overshoot and repeat), fails the attempt:
 * that is what stops a recorded video that performs the same moves in another order.
 */
export function verifyChallenge(frames: FrameMeasure[], steps: readonly ChallengeStep[]): ChallengeOutcome {
  const outcome: ChallengeOutcome = { steps: steps.map((name) => ({ name, passed: false })), completed: false, usable: [] };
  const fail = (reason: FailureReason, message: string) => ((outcome.failure = { reason, message }), outcome);

  for (let i = 1; i < frames.length; i++) {
    if (!(frames[i].timestampMs - frames[i - 1].timestampMs >= CHALLENGE.minGapMs)) {
      return fail('bad_timestamps', `frame timestamps must increase by at least ${CHALLENGE.minGapMs} ms`);
    }
  }
  if (frames.some((f) => f.faces > 1)) return fail('multiple_faces', 'a frame holds more than one face');
  const usable = frames.flatMap((f, i) => (f.faces === 1 && f.yaw !== undefined ? [i] : []));
  outcome.usable = usable;
  const faceless = frames.length - usable.length;
  if (frames.length >= 4 && faceless / frames.length > CHALLENGE.maxFaceless) return fail('face_lost', 'most frames hold no face');
  const sized = frames.filter((f) => f.width !== undefined);
  if (sized.some((f) => f.width !== sized[0].width || f.height !== sized[0].height)) {
    return fail('discontinuous', 'the frames do not all have the same size');
  }
  for (let j = 1; j < usable.length; j++) {
    const a = frames[usable[j - 1]].box, b = frames[usable[j]].box;
    if (!a || !b) continue;
    const size = Math.max(a.width, b.width);
    const scale = Math.max(a.width / b.width, b.width / a.width);
    const shift = Math.hypot(a.x + a.width / 2 - b.x - b.width / 2, a.y + a.height / 2 - b.y - b.height / 2) / size;
    if (scale > CHALLENGE.maxScale || shift > CHALLENGE.maxShift) return fail('discontinuous', 'the face jumps between frames');
  }
  if (usable.length < CHALLENGE.neutralFrames) return outcome;

  const neutral = usable.slice(0, CHALLENGE.neutralFrames).map((i) => frames[i]);
  const base = {
    yaw: median(neutral.map((f) => f.yaw!)),
    pitch: median(neutral.map((f) => f.pitch!)),
    mouth: median(neutral.map((f) => f.mouth ?? NaN)),
    ear: median(neutral.map((f) => f.ear ?? NaN)),
  };
  // Reference: among frames near the neutral pose, the most frontal by the engine's own pose.
  const nearNeutral = usable.filter((i) => Math.abs(frames[i].yaw! - base.yaw) < CHALLENGE.back && Math.abs(frames[i].pitch! - base.pitch) < CHALLENGE.back);
  const frontal = (i: number) => Math.abs(frames[i].yaw!) + Math.abs(frames[i].pitch!);
  outcome.reference = (nearNeutral.length ? nearNeutral : usable).reduce((best, i) => (frontal(i) < frontal(best) ? i : best));

  let k = 0;
  let peak: number | undefined; // frame index where the current step reached its amplitude
  let count = 0; // smiling frames seen for the current step
  const done = () => {
    outcome.steps[k] = { name: steps[k], passed: true, frame: peak };
    k++;
    peak = undefined;
    count = 0;
  };
  for (const i of usable.slice(CHALLENGE.neutralFrames)) {
    if (k >= steps.length) break;
    const f = frames[i];
    const dy = f.yaw! - base.yaw, dp = f.pitch! - base.pitch;
    const action = headAction(dy, dp);
    const clearMove = unaskedMove(headAction(dy, dp, CHALLENGE.wrongMove, CHALLENGE.wrongMove), f);
    // A frame can finish one step and be judged against the next (a turn straight into the opposite turn).
    for (let again = true; again && k < steps.length; ) {
      again = false;
      const step = steps[k];
      if (isHead(step)) {
        const amplitude = (j: number) => (step.startsWith('turn') ? Math.abs(frames[j].yaw! - base.yaw) : Math.abs(frames[j].pitch! - base.pitch));
        if (peak !== undefined) {
          if (action === step) {
            if (amplitude(i) > amplitude(peak)) peak = i; // the audit image shows the furthest frame
          } else if (amplitude(i) < CHALLENGE.back) {
            done();
          } else if (action !== null) {
            done();
            again = true;
          }
          continue; // otherwise: on the way back
        }
        if (action === step) {
          peak = i;
          continue;
        }
      } else if (step === 'smile') {
        if (action === null && (f.mouth ?? 0) >= CHALLENGE.smile * base.mouth) {
          count++;
          if (peak === undefined || (f.mouth ?? 0) > (frames[peak].mouth ?? 0)) peak = i;
          if (count >= CHALLENGE.smileFrames) done();
          continue;
        }
      } else if (action === null && f.ear !== undefined) {
        if (peak === undefined && f.ear <= CHALLENGE.blink * base.ear) peak = i;
        else if (peak !== undefined && f.ear >= CHALLENGE.blinkOpen * base.ear) done();
        continue;
      }
      const previous = k > 0 ? steps[k - 1] : undefined;
      if (clearMove !== null && clearMove !== step && clearMove !== previous) {
        return fail('wrong_order', `${clearMove} was performed while ${step} was asked`);
      }
    }
  }
  outcome.completed = k >= steps.length;
  return outcome;
}

/** A random challenge: `n` distinct steps in random order (crypto-random, so a client cannot predict it). */
export function randomSteps(n: number, random: (max: number) => number): ChallengeStep[] {
  const pool: ChallengeStep[] = [...CHALLENGE_STEPS];
  const out: ChallengeStep[] = [];
  while (out.length < n) out.push(pool.splice(random(pool.length), 1)[0]);
  return out;
}
