// The float32 copy of the templates that int8-resident rows need for their exact re-rank, kept out of the heap.
//
// One file per tenant, indexed by template handle (handles are stable; rows move), read with pread. The file is
// unlinked as soon as it is opened: it exists only while the process holds it open, so a crash or a restart
// leaves nothing behind (the store is the source of truth and the index is rebuilt from it). A deleted
// template's slot is overwritten with zeros at once, like the store's secure_delete. Hot slots live in the OS
// page cache, which is shared, evictable memory, not this process's resident set.
import { closeSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

export interface FloatVectors {
  /** Stores the vector of template handle `h`. */
  write(h: number, v: Float32Array): void;
  /** Reads the vector of handle `h` into `out` (length dim). */
  read(h: number, out: Float32Array): void;
  /** Overwrites handle `h`'s vector with zeros (the template was deleted). */
  erase(h: number): void;
  close(): void;
}

export class FileFloatVectors implements FloatVectors {
  private readonly fd: number;
  private readonly bytes: number;
  private readonly zeros: Buffer;
  private pathToRemove: string | null = null;

  constructor(dir: string, dim: number) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `vectors-${process.pid}-${randomBytes(6).toString('hex')}.f32`);
    this.fd = openSync(file, 'wx+', 0o600);
    try {
      unlinkSync(file);
    } catch {
      // Platforms that cannot unlink an open file keep it until close() (never the case on Linux or macOS).
      this.pathToRemove = file;
    }
    this.bytes = 4 * dim;
    this.zeros = Buffer.alloc(this.bytes);
  }

  write(h: number, v: Float32Array): void {
    writeSync(this.fd, v, 0, this.bytes, h * this.bytes);
  }

  read(h: number, out: Float32Array): void {
    const n = readSync(this.fd, out, 0, this.bytes, h * this.bytes);
    if (n !== this.bytes) throw new Error(`index float file: short read of handle ${h}`);
  }

  erase(h: number): void {
    writeSync(this.fd, this.zeros, 0, this.bytes, h * this.bytes);
  }

  close(): void {
    closeSync(this.fd);
    if (this.pathToRemove) unlinkSync(this.pathToRemove);
  }
}

/** The same contract in memory: for tests and small indexes where a file is not worth it. */
export class MemoryFloatVectors implements FloatVectors {
  private chunks: Float32Array[] = [];
  private static readonly CHUNK = 4096;

  constructor(private readonly dim: number) {}

  write(h: number, v: Float32Array): void {
    const c = Math.floor(h / MemoryFloatVectors.CHUNK);
    while (this.chunks.length <= c) this.chunks.push(new Float32Array(MemoryFloatVectors.CHUNK * this.dim));
    this.chunks[c].set(v.subarray(0, this.dim), (h % MemoryFloatVectors.CHUNK) * this.dim);
  }

  read(h: number, out: Float32Array): void {
    const off = (h % MemoryFloatVectors.CHUNK) * this.dim;
    out.set(this.chunks[Math.floor(h / MemoryFloatVectors.CHUNK)].subarray(off, off + this.dim));
  }

  erase(h: number): void {
    const off = (h % MemoryFloatVectors.CHUNK) * this.dim;
    this.chunks[Math.floor(h / MemoryFloatVectors.CHUNK)].fill(0, off, off + this.dim);
  }

  close(): void {
    this.chunks = [];
  }
}
