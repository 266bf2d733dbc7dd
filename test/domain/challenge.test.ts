// The challenge judge on synthetic pose trajectories (what the engine would measure frame by frame): order,
// amplitude and return, the person's own left and right, smiles and blinks against the person's own neutral face,
// one face per frame, and timestamps. The same judge on real webcam frames: test/http/livenessSessions.test.ts.
import { describe, expect, it } from 'vitest';
import { randomSteps, verifyChallenge, type ChallengeStep, type FrameMeasure } from '../../src/domain/challenge.js';

/** A trajectory from a list of poses; neutral: yaw 12, pitch 8 (an off-axis camera), mouth 0.5, eyes 0.3. */
function track(poses: Partial<FrameMeasure>[]): FrameMeasure[] {
  return poses.map((p, i) => ({ timestampMs: i * 150, faces: 1, yaw: 12, pitch: 8, mouth: 0.5, ear: 0.3, passive: 0.8, ...p }));
}
const N = {}; // neutral
const yaw = (d: number) => ({ yaw: 12 + d });
const pitch = (d: number) => ({ pitch: 8 + d });
const LEFT = [yaw(15), yaw(28), yaw(32), yaw(5)];
const RIGHT = [yaw(-15), yaw(-28), yaw(-33), yaw(-4)];
const SMILE = [{ mouth: 0.6 }, { mouth: 0.62 }, N];
const BLINK = [{ ear: 0.12 }, { ear: 0.3 }];
const UP = [pitch(25), pitch(3)];
const DOWN = [pitch(-25), pitch(-2)];

const judge = (poses: Partial<FrameMeasure>[], steps: ChallengeStep[]) => verifyChallenge(track(poses), steps);

describe('verifyChallenge', () => {
  it('passes each step performed in order, and reports the peak frame of each', () => {
    const r = judge([N, N, N, ...LEFT, N, ...SMILE, ...UP, ...BLINK, ...DOWN, ...RIGHT], ['turn_left', 'smile', 'look_up', 'blink', 'look_down', 'turn_right']);
    expect(r.failure).toBeUndefined();
    expect(r.completed).toBe(true);
    expect(r.steps.every((s) => s.passed)).toBe(true);
    expect(r.steps[0].frame).toBe(5); // yaw +32, the furthest
    expect(r.reference).toBe(20); // the most frontal frame near the neutral pose (yaw 8 after the last turn)
  });

  it("turn_left is the person's own left: the nose towards the image's right (positive yaw)", () => {
    expect(judge([N, N, N, ...LEFT], ['turn_left']).completed).toBe(true);
    expect(judge([N, N, N, ...RIGHT], ['turn_left']).failure?.reason).toBe('wrong_order');
  });

  it('fails moves performed in another order, as a recorded video would', () => {
    const video = [N, N, N, ...RIGHT, N, ...LEFT, N];
    expect(judge(video, ['turn_right', 'turn_left']).completed).toBe(true);
    const r = judge(video, ['turn_left', 'turn_right']);
    expect(r.completed).toBe(false);
    expect(r.failure).toEqual({ reason: 'wrong_order', message: 'turn_right was performed while turn_left was asked' });
  });

  it('tolerates repeating the step just done, not an earlier one', () => {
    expect(judge([N, N, N, ...RIGHT, N, ...RIGHT, ...SMILE], ['turn_right', 'smile']).completed).toBe(true);
    expect(judge([N, N, N, ...RIGHT, ...UP, ...RIGHT], ['turn_right', 'look_up', 'smile']).failure?.reason).toBe('wrong_order');
  });

  it('needs real amplitude and a return: a 15° glance is no turn, a turn not yet back is not done', () => {
    expect(judge([N, N, N, yaw(15), N, yaw(-15), N], ['turn_left']).completed).toBe(false);
    const r = judge([N, N, N, yaw(25), yaw(30)], ['turn_left']);
    expect(r.completed).toBe(false);
    expect(r.failure).toBeUndefined();
  });

  it('judges smiles and blinks against the neutral face', () => {
    expect(judge([N, N, N, { mouth: 0.54 }, { mouth: 0.54 }], ['smile']).completed).toBe(false); // +8 %
    expect(judge([N, N, N, { mouth: 0.6 }], ['smile']).completed).toBe(false); // one frame only
    expect(judge([N, N, N, ...SMILE], ['smile']).completed).toBe(true);
    expect(judge([N, N, N, { ear: 0.25 }, N], ['blink']).completed).toBe(false);
    expect(judge([N, N, N, { ear: 0.1 }], ['blink']).completed).toBe(false); // eyes never reopened
    expect(judge([N, N, N, ...BLINK], ['blink']).completed).toBe(true);
  });

  it('fails a frame with two faces, and most frames without a face', () => {
    expect(judge([N, N, N, { faces: 2 }, ...LEFT], ['turn_left']).failure?.reason).toBe('multiple_faces');
    const lost = [N, N, N, { faces: 0 }, { faces: 0 }, { faces: 0 }, { faces: 0 }];
    expect(judge(lost, ['turn_left']).failure?.reason).toBe('face_lost');
    expect(judge([N, N, N, { faces: 0 }, ...LEFT], ['turn_left']).completed).toBe(true);
  });

  it('fails frames of changing size and a face that jumps (a series of photos, not a camera stream)', () => {
    const box = { x: 100, y: 100, width: 100, height: 120 };
    const frames = track([N, N, N, ...LEFT]).map((f) => ({ ...f, width: 640, height: 480, box }));
    expect(verifyChallenge(frames, ['turn_left']).completed).toBe(true);
    expect(verifyChallenge(frames.map((f, i) => (i === 4 ? { ...f, width: 800 } : f)), ['turn_left']).failure?.reason).toBe('discontinuous');
    const jump = frames.map((f, i) => (i === 4 ? { ...f, box: { ...box, x: 250 } } : f));
    expect(verifyChallenge(jump, ['turn_left']).failure?.reason).toBe('discontinuous');
    const zoom = frames.map((f, i) => (i === 4 ? { ...f, box: { ...box, width: 160, height: 190 } } : f));
    expect(verifyChallenge(zoom, ['turn_left']).failure?.reason).toBe('discontinuous');
  });

  it('fails timestamps that do not increase by at least 20 ms', () => {
    const frames = track([N, N, N, ...LEFT]);
    frames[4].timestampMs = frames[3].timestampMs + 5;
    expect(verifyChallenge(frames, ['turn_left']).failure?.reason).toBe('bad_timestamps');
  });
});

describe('randomSteps', () => {
  it('draws distinct steps from the six', () => {
    let seed = 7;
    const random = (max: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % max;
    for (let n = 1; n <= 6; n++) {
      const s = randomSteps(n, random);
      expect(new Set(s).size).toBe(n);
    }
  });
});
