// Photos the size a phone takes: several megabytes, so that anything that only works for small images (a photo
// passed as a command-line argument) fails with them. From ../shared/faces/highres when it is there, otherwise
// from face-api's demo pictures (always installed), upscaled with sharp.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { sharedFaces } from './harness.js';
import { faceJpeg } from './photos.js';

const MB = 1024 * 1024;

export interface PhonePhotos {
  /** One face, at least 5 MB, under the default MAX_IMAGE_BYTES (10 MB). */
  enrol: Buffer;
  /** Another photo of the same person, over 0.5 MB. */
  probe: Buffer;
  source: 'shared highres' | 'face-api demo';
}

/** Re-encodes `photo` at the first size that weighs at least `minBytes` (JPEG, no chroma subsampling). */
async function atLeast(photo: Buffer, minBytes: number, steps: [width: number, quality: number][]): Promise<Buffer> {
  for (const [width, quality] of steps) {
    const out = await sharp(photo).rotate().resize({ width, kernel: 'lanczos3' }).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
    if (out.length >= minBytes) return out;
  }
  throw new Error(`could not make a photo of ${minBytes} bytes`);
}

export async function phonePhotos(): Promise<PhonePhotos> {
  const shared = path.join(sharedFaces, 'highres/compreface_A');
  if (existsSync(path.join(shared, '001_A.jpg')) && existsSync(path.join(shared, '002_A.jpg'))) {
    const enrol = await atLeast(await readFile(path.join(shared, '001_A.jpg')), 5 * MB, [[3500, 95], [4000, 95], [4000, 100]]);
    return { enrol, probe: await readFile(path.join(shared, '002_A.jpg')), source: 'shared highres' };
  }
  // s1c and s3a are the same woman in two demo pictures (engine score 0.95, test/support/photos.ts).
  const enrol = await atLeast(await faceJpeg('s1c'), 5 * MB, [[5000, 100], [6000, 100], [7000, 100]]);
  const probe = await atLeast(await faceJpeg('s3a'), MB / 2, [[2000, 95], [3000, 95], [3000, 100]]);
  return { enrol, probe, source: 'face-api demo' };
}
