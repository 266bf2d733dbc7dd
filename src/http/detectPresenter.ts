// How /detect shows a detected face: Verifik's box and five landmarks, plus thumbnail, quality and attributes.
import { Type } from '@sinclair/typebox';
import type { DetectedFace } from '../face/types.js';
import { MatchedPersonSchema } from './matchPresenters.js';

const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** Verifik's face box: pixel edges in the (EXIF-oriented) image. */
const Box = Type.Object({ top: Type.Number(), left: Type.Number(), right: Type.Number(), bottom: Type.Number() });
const Point = Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[x, y] in pixels.' });
/** Verifik's five landmarks; `left_eye` is the eye on the image's left (the person's right eye). */
const Landmarks = Type.Object({ nose: Point, left_eye: Point, right_eye: Point, left_mouth: Point, right_mouth: Point });
const Quality = Type.Object({
  faceSize: Type.Number(),
  sharpness: Type.Number(),
  yaw: Type.Number(),
  pitch: Type.Number(),
  roll: Type.Number(),
  brightness: Type.Number(),
});
export const DetectedFaceSchema = Type.Object({
  box: Box,
  detection_score: Type.Number(),
  landmarks: Type.Optional(Landmarks),
  thumbnail: Type.String({ contentEncoding: 'base64', contentMediaType: 'image/jpeg', description: 'The aligned face, base64 JPEG.' }),
  persons: Type.Optional(Type.Array(MatchedPersonSchema, { description: 'Only when the request has `min_score`: the face searched 1:N.' })),
  quality: Quality,
  attributes: Type.Optional(
    Type.Object({
      age: Type.Optional(Type.Number()),
      gender: Type.Optional(Type.Unsafe<'M' | 'F'>({ type: 'string', enum: ['M', 'F'] })),
      gender_score: Type.Optional(Type.Number()),
    }),
  ),
});

/** The mean of some of the 68 iBUG points (0-based): an eye's centre from its six points. */
function mean(points: [number, number][], from: number, to: number): [number, number] {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    x += points[i][0];
    y += points[i][1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

export function presentDetected(f: DetectedFace, landmarks: boolean, attributes: boolean) {
  const r = (x: number) => Math.round(x * 100) / 100;
  const pt = ([x, y]: [number, number]) => [r(x), r(y)];
  const lm = f.landmarks as [number, number][];
  return {
    box: { top: r(f.box.y), left: r(f.box.x), right: r(f.box.x + f.box.width), bottom: r(f.box.y + f.box.height) },
    detection_score: round(f.detectionScore),
    // iBUG 68: 30 nose tip, 36–41 and 42–47 the eyes on the image's left and right, 48 and 54 the mouth corners.
    ...(landmarks
      ? { landmarks: { nose: pt(lm[30]), left_eye: pt(mean(lm, 36, 41)), right_eye: pt(mean(lm, 42, 47)), left_mouth: pt(lm[48]), right_mouth: pt(lm[54]) } }
      : {}),
    thumbnail: f.thumbnail ? Buffer.from(f.thumbnail.buffer, f.thumbnail.byteOffset, f.thumbnail.byteLength).toString('base64') : '',
    quality: {
      faceSize: r(f.quality.faceSize),
      sharpness: round(f.quality.sharpness),
      yaw: r(f.quality.yaw),
      pitch: r(f.quality.pitch),
      roll: r(f.quality.roll),
      brightness: round(f.quality.brightness),
    },
    ...(attributes
      ? { attributes: { age: f.age === undefined ? undefined : Math.round(f.age), gender: f.gender, gender_score: f.genderScore === undefined ? undefined : round(f.genderScore) } }
      : {}),
  };
}

