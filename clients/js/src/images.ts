// Images travel as raw base64 in the JSON body (no `data:` prefix). These turn what a program holds into that.
import { readFile } from 'node:fs/promises';

export type ImageInput = Uint8Array | ArrayBuffer | Blob;

/** Raw base64 of image bytes (a Buffer, a Uint8Array, an ArrayBuffer or a Blob/File). */
export async function toBase64(image: ImageInput): Promise<string> {
  if (typeof Blob !== 'undefined' && image instanceof Blob) return Buffer.from(await image.arrayBuffer()).toString('base64');
  if (image instanceof ArrayBuffer) return Buffer.from(image).toString('base64');
  const bytes = image as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Raw base64 of an image file on disk. */
export async function fileToBase64(file: string): Promise<string> {
  return (await readFile(file)).toString('base64');
}

/** A `data:image/…;base64,` URL (what a canvas or FileReader gives) without its prefix, as the API wants it. */
export function fromDataUrl(url: string): string {
  const m = /^data:[^;,]*;base64,/.exec(url);
  if (!m) throw new TypeError('not a base64 data: URL');
  return url.slice(m[0].length);
}
