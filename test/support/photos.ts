// Test photos generated from face-api's demo pictures (always installed): each demo is a group photo, so
// single-face pictures are cut around one face (boxes measured once with the engine; the photos never change).
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { samplePhotoPath } from './harness.js';

/**
 * [sample number, x, y, side] of one face in the original 1920-px-wide demo photo. The demos show one group of
 * friends: s1c and s3a look like the same woman (engine score 0.96 with the 512-d model); every other pair scores
 * below 0.46 (0.53 with the previous 128-d model).
 */
const FACES = {
  s1a: [1, 421, 407, 198],
  s1b: [1, 850, 469, 177],
  s1c: [1, 1492, 265, 151],
  s3a: [3, 1066, 256, 243],
  s4a: [4, 980, 229, 195],
  s5a: [5, 1413, 442, 209],
  s6a: [6, 1471, 319, 235],
  s6b: [6, 659, 383, 234],
  s6c: [6, 1147, 357, 229],
  s6d: [6, 238, 537, 223],
} as const;

export type FaceName = keyof typeof FACES;
export const FACE_NAMES = Object.keys(FACES) as FaceName[];

const cache = new Map<string, Buffer>();

async function cached(key: string, make: () => Promise<Buffer>): Promise<Buffer> {
  let b = cache.get(key);
  if (!b) {
    b = await make();
    cache.set(key, b);
  }
  return b;
}

/** A JPEG holding exactly one face: the face with a margin of half its size on each side. */
export function faceJpeg(name: FaceName): Promise<Buffer> {
  return cached(`face:${name}`, async () => {
    const [n, x, y, side] = FACES[name];
    const src = sharp(await readFile(samplePhotoPath(n)));
    const meta = await src.metadata();
    const m = Math.round(side * 0.5);
    const left = Math.max(0, x - m);
    const top = Math.max(0, y - m);
    const width = Math.min(meta.width! - left, side + 2 * m);
    const height = Math.min(meta.height! - top, side + 2 * m);
    return sharp(await readFile(samplePhotoPath(n)))
      .extract({ left, top, width, height })
      .jpeg({ quality: 90 })
      .toBuffer();
  });
}

export async function faceBase64(name: FaceName): Promise<string> {
  return (await faceJpeg(name)).toString('base64');
}

/** A group photo (3 faces), downscaled to keep request bodies small. */
export function groupJpeg(): Promise<Buffer> {
  return cached('group', async () => sharp(await readFile(samplePhotoPath(1))).resize(960).jpeg({ quality: 85 }).toBuffer());
}

/** A real, decodable picture with no face in it: a smooth colour gradient. */
export function noFaceJpeg(): Promise<Buffer> {
  return cached('noface', async () => {
    const w = 320;
    const h = 240;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 3;
        px[i] = (x * 255) / w;
        px[i + 1] = (y * 255) / h;
        px[i + 2] = 128;
      }
    }
    return sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg().toBuffer();
  });
}
