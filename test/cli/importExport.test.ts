// `npm run cli -- import`, `export` and `import --from-archive`, run in-process on real SQLite files with the real
// engine, on photos cut from the face models' demo pictures (always installed). The 1,491-photo run on lfw-dev is
// in docs/import-export.md.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir } from '../store/helpers.js';
import { startServer, type ServerProcess } from '../support/server.js';
import { faceJpeg, groupJpeg, noFaceJpeg, type FaceName } from '../support/photos.js';

let root: string;
let cleanup: () => void;

/** s1c and s3a are one woman (the demo photos' only same-person pair); the others are all different people. */
const PEOPLE: Record<string, FaceName[]> = { Ann_Lee: ['s1c', 's3a'], Bob_Ray: ['s1a'], Cy_Dunn: ['s4a'], Dee_Fox: ['s5a'], Eve_Moss: ['s6a', 's6b'] };

async function cli(dataDir: string, argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: { DATA_DIR: dataDir, ENGINE_WORKERS: '1', ...env }, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function newDataDir(name: string): Promise<string> {
  const d = path.join(root, name);
  await mkdir(d, { recursive: true });
  await openSqliteStore({ dataDir: d }).close();
  return d;
}

function parseReport(text: string): Record<string, string>[] {
  // Fields written by the import never hold a comma or a quote except `detail`, the last column.
  const [head, ...lines] = text.trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    const rec: Record<string, string> = {};
    cols.forEach((c, i) => (rec[c] = i === cols.length - 1 ? cells.slice(i).join(',') : cells[i]));
    return rec;
  });
}

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('facegate-import-'));
  const photos = path.join(root, 'photos');
  for (const [person, faces] of Object.entries(PEOPLE)) {
    await mkdir(path.join(photos, person), { recursive: true });
    for (const [i, f] of faces.entries()) await writeFile(path.join(photos, person, `${person}_${i + 1}.jpg`), await faceJpeg(f));
  }
  await mkdir(path.join(photos, 'No_Face'));
  await writeFile(path.join(photos, 'No_Face', 'gradient.jpg'), await noFaceJpeg());
  await writeFile(path.join(photos, 'No_Face', 'broken.jpg'), Buffer.from('this is not a JPEG'));
  await writeFile(path.join(photos, 'No_Face', 'readme.txt'), 'not a photo');
  await mkdir(path.join(photos, 'Group_Shot'));
  await writeFile(path.join(photos, 'Group_Shot', 'group.jpg'), await groupJpeg());
}, 120_000);
afterAll(() => cleanup?.());

describe('import from a folder', () => {
  let dataDir: string;

  it('enrols every person, refuses each bad photo with its reason, and a second run imports nothing new', async () => {
    dataDir = await newDataDir('folder');
    const report = path.join(root, 'folder-1.csv');
    const r = await cli(dataDir, ['import', path.join(root, 'photos'), '--client', 'acme', '--collection', 'Staff', '--report', report]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/7 people, 10 photos/);
    expect(r.err).toMatch(/1 files that are not photos ignored/);
    const rows = parseReport(await readFile(report, 'utf8'));
    const imported = rows.filter((x) => x.outcome === 'imported');
    // Eve's two photos are two different people: the second is refused, Eve is enrolled from the first.
    expect(imported.map((x) => x.name).sort()).toEqual(['Ann Lee', 'Bob Ray', 'Cy Dunn', 'Dee Fox', 'Eve Moss']);
    const photoRefusals = Object.fromEntries(rows.filter((x) => x.outcome === 'photo_refused').map((x) => [path.basename(x.photo), x.reason]));
    expect(photoRefusals).toEqual({ 'Eve_Moss_2.jpg': 'different_person', 'gradient.jpg': 'no_face', 'broken.jpg': 'unreadable_file', 'group.jpg': 'several_faces' });
    expect(rows.filter((x) => x.outcome === 'refused').map((x) => [x.name, x.reason]).sort()).toEqual([
      ['Group Shot', 'no_usable_photo'],
      ['No Face', 'no_usable_photo'],
    ]);

    const store = openSqliteStore({ dataDir });
    try {
      const client = (await store.clients.getByName('acme'))!;
      const staff = (await store.collections.list(client.id, { page: 1, limit: 10 })).items.find((c) => c.name === 'Staff')!;
      const persons = await store.facePersons.list(client.id, { page: 1, limit: 50, collection: staff.id });
      expect(persons.total).toBe(5);
      const ann = persons.items.find((p) => p.name === 'Ann Lee')!;
      expect(await store.templates.listForPerson(client.id, ann.id)).toHaveLength(2);
      // The same audit trail as the API's enrolments.
      const audit = await store.audit.list({ since: '2000-01-01', limit: 100 });
      expect(audit.filter((e) => e.action === 'face_person.enrol' && e.route === 'cli import').map((e) => e.subject).sort()).toEqual(persons.items.map((p) => p.id).sort());
    } finally {
      await store.close();
    }

    const again = await cli(dataDir, ['import', path.join(root, 'photos'), '--client', 'acme', '--collection', 'Staff', '--report', path.join(root, 'folder-2.csv')]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/^0 imported, 5 already in, 2 refused/);
  }, 240_000);

  it('refuses a face already enrolled under another name as a duplicate, naming who it matches', async () => {
    const dup = path.join(root, 'dup');
    await mkdir(path.join(dup, 'Bob_Again'), { recursive: true });
    // Another crop of Bob's face: not the same file (its digest differs), the same face.
    const sharp = (await import('sharp')).default;
    await writeFile(path.join(dup, 'Bob_Again', 'bob.jpg'), await sharp(await faceJpeg('s1a')).resize(300).jpeg({ quality: 80 }).toBuffer());
    const report = path.join(root, 'dup.csv');
    const r = await cli(dataDir, ['import', dup, '--client', 'acme', '--report', report]);
    expect(r.code, r.err).toBe(0);
    const [row] = parseReport(await readFile(report, 'utf8'));
    expect(row).toMatchObject({ outcome: 'refused', reason: 'duplicate', name: 'Bob Again' });
    expect(row.detail).toMatch(/matches person [0-9a-f]{24} with score/);
  }, 120_000);

  it('--dry-run analyses and reports, and writes nothing', async () => {
    const fresh = await newDataDir('dry');
    const seed = await cli(fresh, ['tokens', 'create', '--client', 'acme']);
    expect(seed.code).toBe(0);
    const r = await cli(fresh, ['import', path.join(root, 'photos'), '--client', 'acme', '--dry-run', '--report', path.join(root, 'dry.csv')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^5 would be imported, 0 already in, 2 refused/);
    const store = openSqliteStore({ dataDir: fresh });
    try {
      const client = (await store.clients.getByName('acme'))!;
      expect((await store.facePersons.list(client.id, { page: 1, limit: 10 })).total).toBe(0);
      expect((await store.collections.list(client.id, { page: 1, limit: 10 })).total).toBe(0);
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('import from a CSV manifest', () => {
  it('keeps your ids and fields, skips by external_id on a second run, and refuses a bad field', async () => {
    const dataDir = await newDataDir('csv');
    const photos = path.join(root, 'photos');
    const csv = [
      'name,external_id,collections,images,gender,date_of_birth,notes',
      `Ann Lee,EMP-1,Staff|Night shift,${photos}/Ann_Lee/Ann_Lee_1.jpg;${photos}/Ann_Lee/Ann_Lee_2.jpg,F,1990-02-03,"badge 7, floor 2"`,
      `Bob Ray,EMP-2,Staff,../photos/Bob_Ray/Bob_Ray_1.jpg,M,,`,
      `Cy Dunn,EMP-3,,${photos}/Cy_Dunn/Cy_Dunn_1.jpg,,1990-02-30,`,
    ].join('\n');
    await mkdir(path.join(root, 'manifests'), { recursive: true });
    const file = path.join(root, 'manifests', 'people.csv');
    await writeFile(file, csv);
    const report = path.join(root, 'csv.csv');
    const r = await cli(dataDir, ['import', file, '--client', 'acme', '--report', report]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^2 imported, 0 already in, 1 refused/);
    const rows = parseReport(await readFile(report, 'utf8'));
    expect(rows.find((x) => x.external_id === 'EMP-3')).toMatchObject({ outcome: 'refused', reason: 'invalid_field' });
    const store = openSqliteStore({ dataDir });
    try {
      const client = (await store.clients.getByName('acme'))!;
      const ann = (await store.facePersons.getByExternalId(client.id, 'EMP-1'))!;
      expect(ann).toMatchObject({ name: 'Ann Lee', gender: 'F', dateOfBirth: '1990-02-03', notes: 'badge 7, floor 2' });
      expect(ann.collections).toHaveLength(2);
    } finally {
      await store.close();
    }
    const again = await cli(dataDir, ['import', file, '--client', 'acme', '--report', path.join(root, 'csv-2.csv')]);
    expect(again.out).toMatch(/^0 imported, 2 already in, 1 refused/);
    const rows2 = parseReport(await readFile(path.join(root, 'csv-2.csv'), 'utf8'));
    expect(rows2.filter((x) => x.outcome === 'skipped').every((x) => x.reason === 'already_in_by_external_id')).toBe(true);
  }, 240_000);

  it('says which line of a manifest is wrong, before any work', async () => {
    const dataDir = await newDataDir('bad-manifest');
    const file = path.join(root, 'manifests', 'bad.jsonl');
    await writeFile(file, '{"name": "A", "images": ["a.jpg"]}\n{"name": "B", "images": ["b.jpg"], "shoe_size": 44}\n');
    const r = await cli(dataDir, ['import', file, '--client', 'acme']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl:2: unknown field\(s\) "shoe_size"/);
  });
});

describe('export and import --from-archive', () => {
  it('moves every person with its id, external_id, collections and templates to a new server; an erased person is not in a later export', async () => {
    const from = await newDataDir('export-from');
    const file = path.join(root, 'manifests', 'move.jsonl');
    const photos = path.join(root, 'photos');
    await writeFile(
      file,
      [
        { name: 'Ann Lee', external_id: 'A-1', collections: ['Staff'], images: [`${photos}/Ann_Lee/Ann_Lee_1.jpg`, `${photos}/Ann_Lee/Ann_Lee_2.jpg`] },
        { name: 'Bob Ray', external_id: 'B-2', collections: ['Staff', 'Visitors'], images: [`${photos}/Bob_Ray/Bob_Ray_1.jpg`] },
        { name: 'Cy Dunn', images: [`${photos}/Cy_Dunn/Cy_Dunn_1.jpg`] },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    expect((await cli(from, ['import', file, '--client', 'acme', '--report', path.join(root, 'move.csv')])).code).toBe(0);

    // Erase Cy before exporting.
    let store = openSqliteStore({ dataDir: from });
    const client = (await store.clients.getByName('acme'))!;
    const before = (await store.facePersons.list(client.id, { page: 1, limit: 10 })).items;
    const cy = before.find((p) => p.name === 'Cy Dunn')!;
    await store.facePersons.delete(client.id, cy.id);
    await store.close();

    const archive = path.join(root, 'gallery.fgz.age');
    const env = { FACEGATE_ARCHIVE_PASSPHRASE: 'correct horse battery staple' };
    const ex = await cli(from, ['export', archive, '--encrypt', '--scrypt-log-n', '10'], env);
    expect(ex.code, ex.err).toBe(0);
    expect(ex.out).toMatch(/exported 2 persons \(3 templates\), 2 collections of 1 client/);
    const raw = await readFile(archive);
    expect(raw.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    expect(raw.includes(Buffer.from('Ann Lee'))).toBe(false);

    const to = await newDataDir('export-to');
    const wrong = await cli(to, ['import', '--from-archive', archive], { FACEGATE_ARCHIVE_PASSPHRASE: 'not the passphrase at all' });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/cannot decrypt|wrong passphrase/);
    const none = await cli(to, ['import', '--from-archive', archive]);
    expect(none.err).toMatch(/is encrypted/);

    const im = await cli(to, ['import', '--from-archive', archive], env);
    expect(im.code, im.err).toBe(0);
    expect(im.out).toMatch(/imported 2 persons \(3 templates\), 2 collections/);
    store = openSqliteStore({ dataDir: to });
    try {
      const c2 = (await store.clients.getByName('acme'))!;
      const after = (await store.facePersons.list(c2.id, { page: 1, limit: 10 })).items;
      expect(after.map((p) => [p.id, p.name, p.externalId, p.collections.length]).sort()).toEqual(
        before.filter((p) => p.id !== cy.id).map((p) => [p.id, p.name, p.externalId, p.collections.length]).sort(),
      );
      const ann = after.find((p) => p.externalId === 'A-1')!;
      const t = await store.templates.listForPerson(c2.id, ann.id);
      expect(t).toHaveLength(2);
      expect(t[0].thumbnail?.length).toBeGreaterThan(1000);
      expect(t[0].sourceDigest).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await store.close();
    }
    const twice = await cli(to, ['import', '--from-archive', archive], env);
    expect(twice.out).toMatch(/imported 0 persons .* 2 already here/);
  }, 240_000);

  it('refuses an archive cut short', async () => {
    const from = await newDataDir('cut-from');
    const archive = path.join(root, 'plain.fgz');
    expect((await cli(from, ['export', archive])).code).toBe(0);
    const whole = await readFile(archive);
    const cut = path.join(root, 'cut.fgz');
    await writeFile(cut, whole.subarray(0, whole.length - 10));
    const r = await cli(await newDataDir('cut-to'), ['import', '--from-archive', cut]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot be read|cut short/);
  });
});

describe('import --url: through a running server', () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('enrols through the API, waits out 429s as Retry-After says, and skips what is in on a second run', async () => {
    const dataDir = await newDataDir('remote');
    const token = (await cli(dataDir, ['tokens', 'create', '--client', 'acme'])).out.trim();
    server = await startServer({ dataDir, env: { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW: '3s' } });
    const report = path.join(root, 'remote.csv');
    // The server holds the SQLite DATA_DIR: a local import is refused, and says to use --url.
    const local = await cli(dataDir, ['import', path.join(root, 'photos'), '--client', 'acme']);
    expect(local.code).toBe(1);
    expect(local.err).toMatch(/--url/);
    const r = await cli(dataDir, ['import', path.join(root, 'photos'), '--url', server.base, '--token', token, '--report', report]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^5 imported, 0 already in, 2 refused/);
    expect(r.err).toMatch(/429: waiting/);
    const rows = parseReport(await readFile(report, 'utf8'));
    const photoRefusals = Object.fromEntries(rows.filter((x) => x.outcome === 'photo_refused').map((x) => [path.basename(x.photo), x.reason]));
    // The API refuses an 18-byte file as too small before decoding it; the group photo's largest face is Bob's, whom
    // the duplicate check (search-active-user, which searches the largest face) finds before the enrolment would
    // have refused the photo for its several faces.
    expect(photoRefusals).toEqual({ 'Eve_Moss_2.jpg': 'different_person', 'gradient.jpg': 'no_face', 'broken.jpg': 'too_small' });
    expect(rows.find((x) => x.name === 'Group Shot')).toMatchObject({ outcome: 'refused', reason: 'duplicate' });
    const again = await cli(dataDir, ['import', path.join(root, 'photos'), '--url', server.base, '--token', token, '--report', path.join(root, 'remote-2.csv')]);
    expect(again.out).toMatch(/^0 imported, 5 already in/);
  }, 300_000);
});
