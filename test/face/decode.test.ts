// Decoding: real formats decode to RGB at working size; hostile inputs fail fast with typed errors.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/face/decode.js';
import { ImageError } from '../../src/face/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sample = readFileSync(path.join(repoRoot, 'node_modules/@vladmandic/face-api/demo/sample1.jpg'));

async function expectImageError(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageError);
  expect((err as ImageError).code).toBe(code);
}

/** A PNG whose IHDR claims width × height but that carries almost no data (a decompression bomb's header). */
function pngClaiming(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decodeImage', () => {
  it('decodes a JPEG to RGB and downscales it to the working size', async () => {
    const img = await decodeImage(sample, { maxSide: 640 });
    expect(img.originalWidth).toBe(1920);
    expect(img.originalHeight).toBe(1280);
    expect(Math.max(img.width, img.height)).toBe(640);
    expect(img.data.length).toBe(img.width * img.height * 3);
    expect(img.scale).toBeCloseTo(640 / 1920, 3);
  });

  it('applies EXIF orientation', async () => {
    // Pixels stored landscape with orientation 6 (rotate 90° clockwise to display): displayed portrait.
    const rotated = await sharp(sample).resize(480).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const img = await decodeImage(rotated, { maxSide: 480 });
    expect(img.originalWidth).toBe(320);
    expect(img.originalHeight).toBe(480);
    expect(img.width).toBeLessThan(img.height);
  });

  it('converts greyscale, CMYK, alpha and 16-bit images to 8-bit sRGB', async () => {
    const small = sharp(sample).resize(200);
    const variants = [
      await small.clone().greyscale().png().toBuffer(),
      await small.clone().toColourspace('cmyk').jpeg().toBuffer(),
      await small.clone().ensureAlpha(0.5).png().toBuffer(),
      await small.clone().toColourspace('rgb16').png().toBuffer(),
      await small.clone().webp().toBuffer(),
      await small.clone().gif().toBuffer(),
      await small.clone().tiff().toBuffer(),
    ];
    for (const bytes of variants) {
      const img = await decodeImage(bytes);
      expect(img.width).toBe(200);
      expect(img.data.length).toBe(img.width * img.height * 3);
    }
  });

  it('takes the first frame of an animated GIF', async () => {
    const frame = (colour: string) => sharp({ create: { width: 64, height: 64, channels: 3, background: colour } }).png().toBuffer();
    const gif = await sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const img = await decodeImage(gif);
    expect([img.width, img.height]).toEqual([64, 64]);
    expect(img.data[0]).toBeGreaterThan(200); // red: the first frame
    expect(img.data[2]).toBeLessThan(50);
  });

  it('rejects bytes that are not an image', async () => {
    await expectImageError(decodeImage(Buffer.from('this is not an image, just some text')), 'not_an_image');
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761) >>> 24;
    await expectImageError(decodeImage(random), 'not_an_image');
    await expectImageError(decodeImage(Buffer.alloc(0)), 'not_an_image');
    await expectImageError(decodeImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')), 'not_an_image');
  });

  it('rejects truncated and corrupted JPEGs', async () => {
    await expectImageError(decodeImage(sample.subarray(0, Math.floor(sample.length / 3))), 'not_an_image');
    await expectImageError(decodeImage(sample.subarray(0, 600)), 'not_an_image');
  });

  // Speed belongs to the engine benchmark; what this shows is that the pixel count is judged from the header: the
  // claimed PNGs hold 1 KB of pixel data for billions of pixels, and would fail as corrupt if anything decoded them.
  it('rejects decompression bombs from the header', async () => {
    await expectImageError(decodeImage(pngClaiming(100_000, 100_000)), 'too_many_pixels');
    await expectImageError(decodeImage(pngClaiming(20_000, 20_000)), 'too_many_pixels');
    // A real 10000×10000 JPEG (compresses to a few hundred kB) is over the default 60 MP limit too.
    const big = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    await expectImageError(decodeImage(big), 'too_many_pixels');
  });

  it('rejects images too small to hold a face', async () => {
    const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
    await expectImageError(decodeImage(tiny), 'too_small');
  });
});
