// Whose face a photo is about: the one rule every route uses to pick "the" face of an image (enrolment, search,
// verify, compare, the live flows) and to order /detect's answer.
//
// Box area alone picks wrongly: a neighbour cut by the photo's edge can have a box as large as the subject's, and
// a portrait's subject is the face the photographer framed: inside the frame, towards the centre, sharp, facing the
// camera. Rekognition's CompareFaces takes the source's largest face; IndexFaces indexes the largest faces that pass
// a quality filter. We rank faces by prominence (size, discounted for the part of the face the frame cuts off and
// for distance from the centre, less for a turned or blurred face) and take the first. Only when the runner-up is
// nearly as prominent (two people posing together) is the choice ambiguous: enrolment then refuses and the caller
// names the face (its index in /detect's answer, or its box); a search or comparison uses the first and says so.
import type { AnalyzedImage, Box, DetectedFace } from '../face/types.js';
import { FaceCountError, InvalidFieldError } from './errors.js';
import { selectorField } from './subjectFields.js';

/** The caller's choice of face in one image: an index into /detect's answer for that image, or a face's box. */
export type FaceSelector = { index: number } | { box: Box };

/**
 * A runner-up at least this prominent relative to the subject makes the choice ambiguous: midway between people
 * posing together (groups/ and face-api's demo photos, 2 to 8 faces: 0.76–0.99) and lfw-dev's portraits with a
 * second face (68 of fold 3's 737 photos: at most 0.71).
 */
export const AMBIGUOUS_PROMINENCE = 0.73;

/**
 * Faces the engine analyses per image to choose from (its largest ones). A photo with more faces than this is a
 * crowd, whose subject is among its largest faces if it has one.
 */
export const SUBJECT_CANDIDATES = 10;

/** A face whose box reaches within this share of the image's shorter side of an edge is cut by the frame. */
const EDGE_MARGIN = 0.02;

/** Share of the box inside the image (BlazeFace boxes may overhang a cut face). */
function insideShare(box: Box, width: number, height: number): number {
  const w = Math.max(0, Math.min(box.x + box.width, width) - Math.max(box.x, 0));
  const h = Math.max(0, Math.min(box.y + box.height, height) - Math.max(box.y, 0));
  return box.width * box.height > 0 ? (w * h) / (box.width * box.height) : 0;
}

/** Whether the face touches an edge of the image (cut by the frame, or about to be). */
function touchesEdge(box: Box, width: number, height: number): boolean {
  const m = EDGE_MARGIN * Math.min(width, height);
  return box.x <= m || box.y <= m || box.x + box.width >= width - m || box.y + box.height >= height - m;
}

/**
 * How much a face looks like the photo's subject, relative to the other faces of the same image (the largest
 * face side is 1). Size counts most; a face touching the frame's edge counts half (and less for the part cut off);
 * distance from the centre, a turned head and blur each take off a bounded share, so that they decide between
 * faces of similar size and never make a small background face outrank a large one.
 */
export function prominence(face: DetectedFace, image: Pick<AnalyzedImage, 'width' | 'height'>, largestSide: number): number {
  const { width, height } = image;
  const b = face.box;
  const size = Math.min(b.width, b.height) / (largestSide || 1);
  const cut = touchesEdge(b, width, height) ? 0.5 * insideShare(b, width, height) : 1;
  const dx = (b.x + b.width / 2 - width / 2) / (width / 2);
  const dy = (b.y + b.height / 2 - height / 2) / (height / 2);
  const central = 1 - 0.4 * Math.min(1, Math.hypot(dx, dy) / Math.SQRT2);
  const frontal = 1 - 0.2 * Math.min(1, Math.abs(face.quality.yaw) / 60);
  const sharp = 0.85 + 0.15 * Math.min(1, Math.max(0, face.quality.sharpness));
  return size * cut * central * frontal * sharp;
}

/** The faces of an image, most likely subject first (the order /detect answers in). */
export function subjectOrder(image: AnalyzedImage): DetectedFace[] {
  return rank(image).map((r) => r.face);
}

function rank(image: AnalyzedImage): { face: DetectedFace; score: number }[] {
  const largest = Math.max(0, ...image.faces.map((f) => Math.min(f.box.width, f.box.height)));
  return image.faces.map((face) => ({ face, score: prominence(face, image, largest) })).sort((a, b) => b.score - a.score);
}

export interface SubjectChoice {
  face: DetectedFace;
  /** Faces in the image, the subject included. */
  faces: number;
  /** Another face is nearly as prominent: which one is meant cannot be told from the photo. */
  ambiguous: boolean;
  /** The caller named the face. */
  selected: boolean;
}

/** Intersection over union of two boxes. */
function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter || 1);
}

/** A named face must overlap a detected face this much (IoU) to be it. */
const SELECT_MIN_IOU = 0.3;

/**
 * The subject of one image (`field` names it in errors): the most prominent face, or the one the caller named.
 * No face, or a selector that names no detected face, fails naming the field.
 */
export function chooseSubject(image: AnalyzedImage, field: string, selector?: FaceSelector): SubjectChoice {
  if (image.faces.length === 0) throw new FaceCountError('no_face', field);
  const ranked = rank(image);
  if (selector) {
    if ('index' in selector) {
      const r = ranked[selector.index];
      if (!r) throw new InvalidFieldError(selectorField(field), `"${selectorField(field)}" asks for face ${selector.index} of "${field}", which holds ${ranked.length} face${ranked.length === 1 ? '' : 's'} (indexes from 0, in the order /detect answers)`);
      return { face: r.face, faces: ranked.length, ambiguous: false, selected: true };
    }
    let best: { face: DetectedFace; overlap: number } | null = null;
    for (const r of ranked) {
      const overlap = iou(r.face.box, selector.box);
      if (!best || overlap > best.overlap) best = { face: r.face, overlap };
    }
    if (!best || best.overlap < SELECT_MIN_IOU) throw new InvalidFieldError(selectorField(field), `"${selectorField(field)}": no face of "${field}" is in that box; take the box of a face from /detect's answer for this photo`);
    return { face: best.face, faces: ranked.length, ambiguous: false, selected: true };
  }
  const [first, second] = ranked;
  const ambiguous = second !== undefined && second.score >= AMBIGUOUS_PROMINENCE * first.score;
  return { face: first.face, faces: ranked.length, ambiguous, selected: false };
}
