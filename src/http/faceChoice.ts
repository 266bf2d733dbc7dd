// Request fields that name the face meant in a photo holding several: `subject_face` for `image`, `subject_faces`
// for `images` (one entry per image, `null` to let the server choose), `probe_faces` / `gallery_faces` for compare.
// A face is named by its index in /detect's answer for that photo, or by its box (Verifik's pixel edges).
import { Type, type Static } from '@sinclair/typebox';
import { InvalidFieldError } from '../domain/errors.js';
import type { InputImage } from '../domain/faces.js';
import type { FaceSelector } from '../domain/subject.js';

const FaceBox = Type.Object(
  { top: Type.Number(), left: Type.Number(), right: Type.Number(), bottom: Type.Number() },
  { additionalProperties: false, description: 'A face\'s box as /detect answers it (pixels of the EXIF-oriented photo).' },
);
export const FaceChoice = Type.Union([Type.Integer({ minimum: 0, description: 'The face\'s index in /detect\'s answer for the photo (0: the face the server would choose).' }), FaceBox]);
export type FaceChoiceValue = Static<typeof FaceChoice>;

/** The field for one image. */
export const SubjectFace = (imageField: string) =>
  Type.Optional({ ...FaceChoice, description: `Which face of \`${imageField}\` is meant, when it holds several: its index in /detect's answer for it, or its box. Left out, the photo's subject is used (the first face /detect answers).` });

/** The field for an array of images: one entry per image, null where the server may choose. */
export const SubjectFaces = (imagesField: string, maxItems: number) =>
  Type.Optional(
    Type.Array(Type.Union([FaceChoice, Type.Null()]), {
      maxItems,
      description: `Which face of each of \`${imagesField}\` is meant, when a photo holds several: its index in /detect's answer for that photo, or its box; null (or left out) uses the photo's subject (the first face /detect answers).`,
    }),
  );

function selector(choice: FaceChoiceValue, field: string): FaceSelector {
  if (typeof choice === 'number') return { index: choice };
  const { top, left, right, bottom } = choice;
  if (!(right > left && bottom > top)) throw new InvalidFieldError(field, `"${field}" is not a box: right must exceed left and bottom exceed top`);
  return { box: { x: left, y: top, width: right - left, height: bottom - top } };
}

/** Attaches the named faces to their images (`field` is the choices' field name, for errors). */
export function withFaceChoices(images: InputImage[], choices: (FaceChoiceValue | null)[] | FaceChoiceValue | undefined, field: string): InputImage[] {
  if (choices === undefined) return images;
  if (!Array.isArray(choices)) return images.map((img, i) => (i === 0 ? { ...img, subject: selector(choices, field) } : img));
  if (choices.length > images.length) throw new InvalidFieldError(field, `"${field}" has ${choices.length} entries for ${images.length} image${images.length === 1 ? '' : 's'}`);
  return images.map((img, i) => {
    const c = choices[i];
    return c === null || c === undefined ? img : { ...img, subject: selector(c, `${field}[${i}]`) };
  });
}
