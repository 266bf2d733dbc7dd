// What `npm run cli -- import` reads: a folder (one sub-folder per person, or files named PERSON<sep>anything), a
// CSV file or a JSONL manifest. Each yields people with their fields and the paths of their photos; the photos
// themselves are read only when that person's turn comes (src/cli/import.ts), so a 100 k-photo folder never sits in
// memory.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';

/** One person as a source describes it. */
export interface SourcePerson {
  /** Where it came from, for the report: a folder, `file.csv:12`, `list.jsonl:3`. */
  origin: string;
  name: string;
  external_id?: string;
  /** Collection names, `_id`s or `code`s (names are created when missing). */
  collections: string[];
  gender?: 'M' | 'F';
  date_of_birth?: string;
  nationality?: string;
  notes?: string;
  /** Absolute paths. */
  photos: string[];
}

export class SourceError extends Error {}

export const PHOTO_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);
const isPhoto = (file: string) => PHOTO_EXTENSIONS.has(path.extname(file).toLowerCase());

/** `Aaron_Sorkin` → `Aaron Sorkin`: folder and file names use separators where names have spaces. */
export function nameFromKey(key: string): string {
  return key.replace(/[_]+/g, ' ').replace(/\s+/g, ' ').trim() || key;
}

const byName = new Intl.Collator('en', { numeric: true }).compare;

// Symbolic links are followed (a photo library is often a tree of links); a dangling one is left out.
async function isDir(full: string, e: Dirent): Promise<boolean> {
  return e.isDirectory() || (e.isSymbolicLink() && (await stat(full).then((s) => s.isDirectory(), () => false)));
}
async function isFile(full: string, e: Dirent): Promise<boolean> {
  return e.isFile() || (e.isSymbolicLink() && (await stat(full).then((s) => s.isFile(), () => false)));
}

export interface FolderOptions {
  /** Files directly in the folder: the person is the part of the file name before the last `separator`. */
  separator?: string;
  /** Use the sub-folder (or file-name key) as the person's external_id. */
  keyAsExternalId?: boolean;
  collections?: string[];
}

/** A folder: sub-folders are people (their photos inside); photos directly in it are grouped by `separator`. */
export async function readFolder(dir: string, opts: FolderOptions = {}): Promise<{ people: SourcePerson[]; ignored: string[] }> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => byName(a.name, b.name));
  const people: SourcePerson[] = [];
  const ignored: string[] = [];
  const person = (key: string, origin: string, photos: string[]): SourcePerson => ({
    origin,
    name: nameFromKey(key),
    ...(opts.keyAsExternalId ? { external_id: key } : {}),
    collections: opts.collections ?? [],
    photos,
  });
  const loose = new Map<string, string[]>();
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.name.startsWith('.')) continue;
    if (await isDir(full, e)) {
      const files: string[] = [];
      for (const f of await readdir(full, { withFileTypes: true })) {
        if (!f.name.startsWith('.') && (await isFile(path.join(full, f.name), f))) files.push(f.name);
      }
      files.sort(byName);
      for (const f of files.filter((f) => !isPhoto(f))) ignored.push(path.join(full, f));
      const photos = files.filter(isPhoto).map((f) => path.join(full, f));
      if (photos.length) people.push(person(e.name, full, photos));
    } else if (await isFile(full, e)) {
      if (!isPhoto(e.name)) {
        ignored.push(full);
        continue;
      }
      const stem = path.basename(e.name, path.extname(e.name));
      const cut = opts.separator ? stem.lastIndexOf(opts.separator) : -1;
      const key = cut > 0 ? stem.slice(0, cut) : stem;
      loose.set(key, [...(loose.get(key) ?? []), full]);
    }
  }
  for (const [key, photos] of loose) people.push(person(key, photos.length === 1 ? photos[0] : `${path.join(dir, key)}${opts.separator ?? ''}*`, photos));
  return { people, ignored };
}

const LIST_SPLIT = /[|;]/;

function str(v: unknown, field: string, where: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new SourceError(`${where}: "${field}" must be text`);
  return String(v).trim() || undefined;
}

function list(v: unknown, field: string, where: string): string[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map((x) => str(x, field, where)).filter((x): x is string => x !== undefined);
  const s = str(v, field, where);
  return s ? s.split(LIST_SPLIT).map((x) => x.trim()).filter(Boolean) : [];
}

/** A manifest row (CSV record or JSON object) → a person; photo paths are relative to the manifest's folder. */
function fromRecord(r: Record<string, unknown>, where: string, base: string, extraCollections: string[]): SourcePerson {
  const known = new Set(['name', 'external_id', 'collections', 'collection', 'images', 'image', 'photos', 'photo', 'gender', 'date_of_birth', 'nationality', 'notes']);
  const unknown = Object.keys(r).filter((k) => !known.has(k));
  if (unknown.length) throw new SourceError(`${where}: unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}; known: ${[...known].join(', ')}`);
  const name = str(r.name, 'name', where);
  if (!name) throw new SourceError(`${where}: "name" is required`);
  const photos = [...list(r.images, 'images', where), ...list(r.image, 'image', where), ...list(r.photos, 'photos', where), ...list(r.photo, 'photo', where)];
  if (!photos.length) throw new SourceError(`${where}: no photo ("images": one path, or several separated by | or ;)`);
  const gender = str(r.gender, 'gender', where)?.toUpperCase();
  if (gender !== undefined && gender !== 'M' && gender !== 'F') throw new SourceError(`${where}: "gender" must be M or F`);
  const p: SourcePerson = {
    origin: where,
    name,
    collections: [...new Set([...extraCollections, ...list(r.collections, 'collections', where), ...list(r.collection, 'collection', where)])],
    photos: photos.map((f) => path.resolve(base, f)),
  };
  const externalId = str(r.external_id, 'external_id', where);
  if (externalId) p.external_id = externalId;
  if (gender) p.gender = gender as 'M' | 'F';
  for (const k of ['date_of_birth', 'nationality', 'notes'] as const) {
    const v = str(r[k], k, where);
    if (v) p[k] = v;
  }
  return p;
}

/** A CSV with a header row: name, external_id, collections, images (paths separated by | or ;), gender, date_of_birth, nationality, notes. */
export async function readCsv(file: string, collections: string[] = []): Promise<SourcePerson[]> {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(await readFile(file), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, bom: true, trim: true });
  } catch (e) {
    throw new SourceError(`${file}: ${(e as Error).message}`);
  }
  // Line 1 is the header.
  return rows.map((r, i) => fromRecord(r, `${path.basename(file)}:${i + 2}`, path.dirname(file), collections));
}

/** One JSON object a line, with the CSV's fields (`images` and `collections` may be arrays). */
export async function readJsonl(file: string, collections: string[] = []): Promise<SourcePerson[]> {
  const out: SourcePerson[] = [];
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path.basename(file)}:${i + 1}`;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new SourceError(`${where}: not JSON (${(e as Error).message})`);
    }
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new SourceError(`${where}: expected a JSON object`);
    out.push(fromRecord(r as Record<string, unknown>, where, path.dirname(file), collections));
  });
  return out;
}

/** Reads whichever source `target` is: a folder, a `.csv` or a `.jsonl`/`.ndjson` file. */
export async function readSource(target: string, opts: FolderOptions = {}): Promise<{ people: SourcePerson[]; ignored: string[] }> {
  let s;
  try {
    s = await stat(target);
  } catch {
    throw new SourceError(`${target}: no such file or folder`);
  }
  if (s.isDirectory()) return readFolder(target, opts);
  const ext = path.extname(target).toLowerCase();
  if (ext === '.csv') return { people: await readCsv(target, opts.collections), ignored: [] };
  if (ext === '.jsonl' || ext === '.ndjson') return { people: await readJsonl(target, opts.collections), ignored: [] };
  throw new SourceError(`${target}: expected a folder, a .csv or a .jsonl file`);
}
