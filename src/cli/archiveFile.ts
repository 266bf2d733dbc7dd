// The archive on disk: the records of src/domain/archive.ts as JSON lines, gzip-compressed, optionally encrypted
// with a passphrase in the age format (https://age-encryption.org/v1: scrypt, then ChaCha20-Poly1305 in 64 KiB
// chunks), through the age-encryption package (by age's author). Streamed both ways: a large gallery never sits in
// memory, and an encrypted archive can also be opened with the `age` tool (`age -d archive.fgz.age | zcat`).
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip, createGzip } from 'node:zlib';
import { Decrypter, Encrypter } from 'age-encryption';

const AGE_MAGIC = 'age-encryption.org/v1\n';

export class ArchiveFileError extends Error {}

/** Is the file an age-encrypted one (by its first line)? */
export async function isEncrypted(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(AGE_MAGIC.length);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('latin1') === AGE_MAGIC;
  } finally {
    await fh.close();
  }
}

/** Writes `records` to `file` (atomically: a temporary file renamed at the end), owner-only (it holds biometric data). */
export async function writeArchive(file: string, records: AsyncIterable<unknown>, opts: { passphrase?: string; scryptLogN?: number } = {}): Promise<void> {
  const tmp = `${file}.partial`;
  const lines = Readable.from(
    (async function* () {
      for await (const r of records) yield `${JSON.stringify(r)}\n`;
    })(),
  );
  const gzip = createGzip();
  try {
    if (opts.passphrase) {
      const e = new Encrypter();
      e.setPassphrase(opts.passphrase);
      if (opts.scryptLogN) e.setScryptWorkFactor(opts.scryptLogN);
      const plain = Readable.toWeb(lines.pipe(gzip)) as unknown as ReadableStream<Uint8Array>;
      const sealed = await e.encrypt(plain);
      await pipeline(Readable.fromWeb(sealed as unknown as WebReadableStream<Uint8Array>), createWriteStream(tmp, { mode: 0o600 }));
    } else {
      await pipeline(lines, gzip, createWriteStream(tmp, { mode: 0o600 }));
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** The records of an archive, one by one. A wrong passphrase or an altered file fails before or while reading. */
export async function* readArchive(file: string, opts: { passphrase?: string } = {}): AsyncGenerator<unknown> {
  let source: Readable;
  if (await isEncrypted(file)) {
    if (!opts.passphrase) throw new ArchiveFileError(`${file} is encrypted: give its passphrase (FACEGATE_ARCHIVE_PASSPHRASE or --passphrase-file)`);
    const d = new Decrypter();
    d.addPassphrase(opts.passphrase);
    let plain;
    try {
      plain = await d.decrypt(Readable.toWeb(createReadStream(file)) as unknown as ReadableStream<Uint8Array>);
    } catch (e) {
      throw new ArchiveFileError(`cannot decrypt ${file}: ${(e as Error).message} (wrong passphrase?)`);
    }
    source = Readable.fromWeb(plain as unknown as WebReadableStream<Uint8Array>);
  } else {
    source = createReadStream(file);
  }
  const gunzip = createGunzip();
  const failures: Error[] = [];
  const text = source.pipe(new Transform({ transform: (chunk, _enc, cb) => cb(null, chunk) })).pipe(gunzip);
  source.on('error', (e) => {
    failures.push(e);
    gunzip.destroy(e);
  });
  let n = 0;
  try {
    for await (const line of createInterface({ input: text, crlfDelay: Infinity })) {
      n++;
      if (line.trim() === '') continue;
      try {
        yield JSON.parse(line);
      } catch {
        throw new ArchiveFileError(`${file}: line ${n} is not JSON`);
      }
    }
  } catch (e) {
    if (e instanceof ArchiveFileError) throw e;
    throw new ArchiveFileError(`${file} cannot be read: ${(failures[0] ?? (e as Error)).message}`);
  }
}
