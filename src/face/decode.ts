// Image decoding with sharp (libvips): any format libvips reads, EXIF orientation applied, alpha flattened on white,
// CMYK/grey/16-bit converted to 8-bit sRGB, and downscaled while decoding (JPEG shrink-on-load) so a 7000-px photo
// costs about what a 1000-px one does. The pixel count is checked from the header before any pixel is decoded.
import sharp from 'sharp';
import { ImageError } from './errors.js';

export interface DecodedImage {
  /** RGB, 3 channels, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
  /** Size of the oriented original. */
  originalWidth: number;
  originalHeight: number;
  /** Working pixels per original pixel (≤ 1). */
  scale: number;
}

export interface DecodeOptions {
  /** Longest side of the working image. */
  maxSide?: number;
  /** Largest accepted original, in pixels (width × height). */
  maxPixels?: number;
  /** Smallest accepted side, in pixels. */
  minSide?: number;
}

export const DEFAULT_MAX_PIXELS = 60_000_000;
const FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'heif', 'avif', 'tiff', 'jp2', 'jxl']);

/** Cheap header sniff: libvips would otherwise happily read some text formats (SVG, PPM) as images. */
function looksLikeImage(b: Uint8Array): boolean {
  const startsWith = (...bytes: number[]) => bytes.every((v, i) => b[i] === v);
  const ascii = (s: string, at = 0) => [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  return (
    startsWith(0xff, 0xd8, 0xff) || // JPEG
    startsWith(0x89, 0x50, 0x4e, 0x47) || // PNG
    (ascii('RIFF') && ascii('WEBP', 8)) ||
    ascii('GIF8') ||
    ascii('ftyp', 4) || // HEIF / AVIF
    startsWith(0x49, 0x49, 0x2a, 0x00) || startsWith(0x4d, 0x4d, 0x00, 0x2a) || // TIFF
    startsWith(0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50) || // JPEG 2000
    startsWith(0xff, 0x0a) || ascii('\0\0\0\x0cJXL ') // JPEG XL
  );
}

export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxSide = opts.maxSide ?? 1280;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const minSide = opts.minSide ?? 32;
  if (bytes.length < 16 || !looksLikeImage(bytes)) throw new ImageError('not_an_image', 'the bytes are not an image');

  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageError('not_an_image', 'the image header cannot be read');
  }
  if (!meta.format || !FORMATS.has(meta.format)) {
    throw new ImageError('unsupported_format', `image format ${meta.format ?? 'unknown'} is not supported`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0; // first frame only: sharp reads one page unless asked for more
  if (!w || !h) throw new ImageError('not_an_image', 'the image has no pixels');
  if (w * h > maxPixels) {
    throw new ImageError('too_many_pixels', `the image has ${w}×${h} pixels; at most ${maxPixels} are accepted`);
  }
  const swap = (meta.orientation ?? 1) >= 5;
  const originalWidth = swap ? h : w;
  const originalHeight = swap ? w : h;
  if (Math.min(originalWidth, originalHeight) < minSide) {
    throw new ImageError('too_small', `the image is ${originalWidth}×${originalHeight}; at least ${minSide} px per side is needed`);
  }
  const scale = Math.min(1, maxSide / Math.max(originalWidth, originalHeight));
  const width = Math.max(1, Math.round(originalWidth * scale));
  const height = Math.max(1, Math.round(originalHeight * scale));

  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', sequentialRead: true })
      .rotate()
      .resize(width, height, { fit: 'fill', kernel: 'lanczos3', fastShrinkOnLoad: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageError('unsupported_format', `decoded to ${info.channels} channels`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      originalWidth,
      originalHeight,
      scale: info.width / originalWidth,
    };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (/pixel limit/i.test(message)) throw new ImageError('too_many_pixels', 'the image has too many pixels');
    throw new ImageError('not_an_image', 'the image data is corrupt or truncated');
  }
}
