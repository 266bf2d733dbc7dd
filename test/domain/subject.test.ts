// The subject rule on face boxes as the engine reports them (the real-engine checks are in test/http/subject.test.ts):
// the boxes below are lfw-dev and group photos' own, copied from the engine's answers.
import { describe, expect, it } from 'vitest';
import type { AnalyzedImage, DetectedFace } from '../../src/face/types.js';
import { chooseSubject, subjectOrder } from '../../src/domain/subject.js';

const face = (x: number, y: number, width: number, height: number, yaw = 0, sharpness = 0.5): DetectedFace => ({
  box: { x, y, width, height },
  landmarks: [],
  detectionScore: 0.9,
  quality: { faceSize: Math.min(width, height), sharpness, yaw, pitch: 0, roll: 0, brightness: 0.5 },
  embedding: new Float32Array(0),
});
const image = (width: number, height: number, faces: DetectedFace[]): AnalyzedImage => ({ width, height, faces });

describe('subject rule', () => {
  it('a neighbour cut by the frame loses to the framed face even when its box is larger (lfw-dev Dino_de_Laurentis_0001)', () => {
    const cut = face(0, 75, 78, 108, -16, 0.37);
    const subject = face(85, 98, 106, 106, -13, 0.62);
    const img = image(250, 250, [cut, subject]);
    expect(subjectOrder(img)[0]).toBe(subject);
    expect(chooseSubject(img, 'images[0]')).toMatchObject({ face: subject, faces: 2, ambiguous: false });
  });

  it('a smaller face away from the centre is a bystander, not a rival (lfw-dev Colin_Powell_0049)', () => {
    const img = image(250, 250, [face(68, 83, 102, 102, 17, 0.54), face(138, 80, 78, 78, 1, 0.32), face(0, 105, 70, 73, -5, 0.5)]);
    expect(chooseSubject(img, 'image').ambiguous).toBe(false);
  });

  it('two people posing together are ambiguous (face-api demo sample2)', () => {
    const img = image(1920, 1367, [face(860, 257, 218, 218), face(1452, 192, 200, 200)]);
    const choice = chooseSubject(img, 'images[0]');
    expect(choice.ambiguous).toBe(true);
    expect(choice.face.box.x).toBe(860);
  });

  it('a named face wins, by index in detect order or by box; a wrong one fails naming the selector field', () => {
    const a = face(860, 257, 218, 218);
    const b = face(1452, 192, 200, 200);
    const img = image(1920, 1367, [a, b]);
    expect(chooseSubject(img, 'images[0]', { index: 1 })).toMatchObject({ face: subjectOrder(img)[1], selected: true, ambiguous: false });
    expect(chooseSubject(img, 'images[0]', { box: { x: 1440, y: 200, width: 210, height: 190 } }).face).toBe(b);
    expect(() => chooseSubject(img, 'images[0]', { index: 2 })).toThrow(/subject_faces\[0\]/);
    expect(() => chooseSubject(img, 'image', { box: { x: 0, y: 0, width: 10, height: 10 } })).toThrow(/subject_face/);
  });

  it('no face fails naming the image', () => {
    expect(() => chooseSubject(image(100, 100, []), 'probe[1]')).toThrow(/no_face_detected: "probe\[1\]"/);
  });
});
