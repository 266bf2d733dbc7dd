// Image fields arrive as raw base64 (Verifik's rule: no data: URL). Decoding is strict so that a truncated or
// mangled upload fails here with 412 instead of reaching the engine as garbage.
import type { InputImage } from '../domain/faces.js';
import { ImageInputError } from '../domain/errors.js';
import { formatBytes } from './errors.js';

export interface ImageLimits {
  /** Largest decoded image in bytes (413 above). */
  maxImageBytes: number;
}

/** Fewer bytes than this cannot hold a face worth matching (the smallest useful JPEG is a few hundred bytes). */
export const MIN_IMAGE_BYTES = 100;

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes one base64 image field; `field` names it in errors (`images[1]`). */
export function decodeImage(value: string, field: string, limits: ImageLimits): InputImage {
  const head = value.slice(0, 64).trimStart();
  if (head.toLowerCase().startsWith('data:')) {
    // The prefix names a media type, never image content, so it can be quoted back.
    const prefix = /^data:[A-Za-z0-9.+/=;-]{0,40},?/.exec(head)?.[0] ?? 'data:';
    throw new ImageInputError('data_url', field, `starts with the data: URL prefix "${prefix}"; remove the prefix and send only the base64 after the comma`);
  }
  // Line breaks (`base64` without -w0) and stray spaces are tolerated; anything else outside the alphabet is not.
  const compact = value.replace(/[\s]+/g, '');
  if (compact.length === 0 || !BASE64_RE.test(compact) || compact.length % 4 === 1) {
    throw new ImageInputError('not_base64', field, 'not valid base64; send the raw base64 of a JPEG, PNG or WebP file');
  }
  const tooLarge = (n: number) =>
    new ImageInputError('too_large', field, `${formatBytes(n)} once decoded, over the limit of ${formatBytes(limits.maxImageBytes)}; the server's MAX_IMAGE_BYTES setting changes it`);
  // Checked on the encoded length first, so an oversized field is refused before allocating its decoded copy.
  const estimate = Math.floor((compact.length * 3) / 4);
  if (estimate > limits.maxImageBytes + 2) throw tooLarge(estimate);
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > limits.maxImageBytes) throw tooLarge(bytes.length);
  if (bytes.length < MIN_IMAGE_BYTES) throw new ImageInputError('too_small', field, `${bytes.length} bytes, too small to be an image`);
  return { field, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
}

export function decodeImages(values: string[], field: string, limits: ImageLimits): InputImage[] {
  return values.map((v, i) => decodeImage(v, `${field}[${i}]`, limits));
}
