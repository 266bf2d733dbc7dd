// /v2/face-recognition/persons, on the real face engine and a real SQLite file.
import Database from 'better-sqlite3';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { DB_FILE_NAME } from '../../src/store/sqlite/store.js';
import type { Repos, Store } from '../../src/domain/ports.js';
import { pixelBombPng, notAnImage } from '../support/hostile.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { faceBase64, faceJpeg, groupJpeg, noFaceJpeg } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

let engine: WorkerFaceEngine;
let t: TestApp;
let acme: { token: string; clientId: string };
let globex: { token: string; clientId: string };
let staff: { _id: string; code: string };
let visitors: { _id: string; code: string };

const PERSONS = '/v2/face-recognition/persons';
const COLLECTIONS = '/v2/face-recognition/collections';

beforeAll(async () => {
  engine = newEngine();
  await engine.ready();
  t = await startTestApp({ engine, index: newIndex(engine.dim), config: { maxImageBytes: 2 * 1024 * 1024 } });
  acme = await t.token('acme');
  globex = await t.token('globex');
  staff = (await t.request('POST', COLLECTIONS, { token: acme.token, body: { name: 'Staff' } })).body.data;
  visitors = (await t.request('POST', COLLECTIONS, { token: acme.token, body: { name: 'Visitors' } })).body.data;
});

afterAll(async () => {
  await t?.close();
  await engine?.close();
});

/** Row counts straight from the database file (read-only), to prove what is and is not stored. */
function countRows(table: string, where = '1 = 1', ...args: unknown[]): number {
  const db = new Database(path.join(t.dataDir, DB_FILE_NAME), { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get(...args) as { n: number }).n;
  } finally {
    db.close();
  }
}

async function embeddingOf(name: Parameters<typeof faceJpeg>[0]): Promise<Float32Array> {
  const r = await engine.analyze([await faceJpeg(name)]);
  return r.images[0].faces[0].embedding;
}

const enrol = (token: string, body: Record<string, unknown>) => t.request('POST', PERSONS, { token, body });

describe('create', () => {
  it('enrols a person from two photos: one template and one thumbnail per photo, searchable at once', async () => {
    const r = await enrol(acme.token, {
      name: 'Jane Doe',
      images: [await faceBase64('s6a'), await faceBase64('s6a')],
      gender: 'F',
      date_of_birth: '1990-01-15',
      nationality: 'US',
      collections: [staff.code, visitors._id],
      notes: 'VIP customer',
    });
    expect(r.status).toBe(200);
    const p = r.body.data;
    expect(Object.keys(p).sort()).toEqual(
      ['_id', 'client', 'collections', 'createdAt', 'date_of_birth', 'external_id', 'gender', 'name', 'nationality', 'notes', 'thumbnails', 'updatedAt'].sort(),
    );
    expect(p).toMatchObject({
      name: 'Jane Doe',
      gender: 'F',
      date_of_birth: '1990-01-15',
      nationality: 'US',
      notes: 'VIP customer',
      client: acme.clientId,
      collections: [staff._id, visitors._id],
    });
    expect(p._id).toMatch(/^[0-9a-f]{24}$/);
    expect(p.thumbnails).toHaveLength(2);
    for (const th of p.thumbnails) {
      expect(Object.keys(th).sort()).toEqual(['id', 'thumbnail']);
      expect(th.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const meta = await sharp(Buffer.from(th.thumbnail, 'base64')).metadata();
      expect(meta.format).toBe('jpeg');
    }
    expect(countRows('face_templates', 'face_person_id = ?', p._id)).toBe(2);
    // In the index right away, in both collections.
    const q = await embeddingOf('s6a');
    for (const collection of [staff._id, visitors._id, undefined]) {
      const hits = t.index.search(acme.clientId, q, { mode: 'ACCURATE', k: 5, collection });
      expect(hits[0]?.person).toBe(p._id);
    }
    // Never an embedding in the answer.
    expect(r.text).not.toMatch(/embedding|template/i);
  });

  it('accepts an ISO date-time as date_of_birth and answers with the date', async () => {
    const r = await enrol(acme.token, { name: 'Dated', images: [await faceBase64('s6b')], date_of_birth: '1985-03-04T00:00:00.000Z' });
    expect(r.status).toBe(200);
    expect(r.body.data.date_of_birth).toBe('1985-03-04');
    expect(r.body.data).toMatchObject({ gender: null, nationality: null, notes: null, collections: [] });
  });

  it('rejects invalid fields with 409 MissingParameter naming the field', async () => {
    const img = await faceBase64('s1a');
    const cases: [Record<string, unknown>, string][] = [
      [{ images: [img] }, '"name" is required'],
      [{ name: 'x' }, '"images" is required'],
      [{ name: 'x', images: [] }, '"images" must contain at least 1 items'],
      [{ name: 'x', images: [img, img, img, img, img, img] }, '"images" must contain less than or equal to 5 items'],
      [{ name: 'x', images: img }, '"images" must be an array'],
      [{ name: 'x', images: [img, 7] }, '"images[1]" must be a string'],
      [{ name: 'x', images: [img], gender: 'X' }, '"gender" must be one of [M, F]'],
      [{ name: 'x', images: [img], date_of_birth: '15/01/1990' }, '"date_of_birth" must be a date in the format YYYY-MM-DD (e.g. 1990-01-15)'],
      [{ name: 'x', images: [img], date_of_birth: '1990-02-30' }, '"date_of_birth" must be a valid date'],
      [{ name: 'x', images: [img], date_of_birth: '2999-01-01' }, '"date_of_birth" must be a date between 1900-01-01 and today'],
      [{ name: 'x', images: [img], collections: 'abc' }, '"collections" must be an array'],
      [{ name: '   ', images: [img] }, '"name" is not allowed to be empty'],
      [{ name: 'x', images: [img], os: 'IOS' }, '"os" is not allowed'],
    ];
    for (const [body, message] of cases) {
      const r = await enrol(acme.token, body);
      expect(r.status, message).toBe(409);
      expect(r.body, message).toMatchObject({ message, code: 'MissingParameter', field: message.split('"')[1] });
    }
  });

  it('412 only_images_in_base64 for data: URLs, non-base64, truncated, tiny or non-image payloads, naming the image', async () => {
    const good = await faceBase64('s1a');
    const truncated = good.slice(0, Math.floor(good.length / 8) * 4 + 1); // length % 4 == 1: cannot be base64
    const halfJpeg = good.slice(0, Math.floor(good.length / 8) * 4); // decodes, but to half a JPEG
    const bad = [
      `data:image/jpeg;base64,${good}`,
      'this is not base64!',
      truncated,
      halfJpeg,
      Buffer.from('tiny').toString('base64'),
      notAnImage().toString('base64'),
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"></svg>'.repeat(3)).toString('base64'),
    ];
    for (const [i, b] of bad.entries()) {
      const r = await enrol(acme.token, { name: 'Bad image', images: [good, b] });
      expect(r.status, `case ${i}`).toBe(412);
      expect(r.body, `case ${i}`).toMatchObject({ message: 'only_images_in_base64', code: 'ERROR', field: 'images[1]' });
      expect(r.body.hint, `case ${i}`).toMatch(/^"images\[1\]": /);
    }
    // Each hint says what is wrong with that image, and for a data: URL, what to do.
    const hints = [];
    for (const b of bad.slice(0, 2)) hints.push((await enrol(acme.token, { name: 'Bad image', images: [good, b] })).body.hint);
    expect(hints[0]).toBe('"images[1]": starts with the data: URL prefix "data:image/jpeg;base64,"; remove the prefix and send only the base64 after the comma');
    expect(hints[1]).toMatch(/not valid base64/);
  });

  it('413 for an image over MAX_IMAGE_BYTES and for a pixel bomb', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0xab).toString('base64');
    const r = await enrol(acme.token, { name: 'Big', images: [big] });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'images[0]' });
    // The limit, and the setting that changes it.
    expect(r.body.hint).toBe(`"images[0]": 3 MB once decoded, over the limit of ${t.config.maxImageBytes / 1024 / 1024} MB; the server's MAX_IMAGE_BYTES setting changes it`);
    const bomb = await enrol(acme.token, { name: 'Bomb', images: [await faceBase64('s1a'), pixelBombPng().toString('base64')] });
    expect(bomb.status).toBe(413);
    expect(bomb.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', field: 'images[1]' });
  });

  it('422 NO_FACE / MULTIPLE_FACES naming the image, and nothing is stored', async () => {
    const before = { persons: countRows('face_persons'), templates: countRows('face_templates'), size: t.index.size() };
    const none = await enrol(acme.token, { name: 'Nobody', images: [await faceBase64('s1a'), (await noFaceJpeg()).toString('base64')] });
    expect(none.status).toBe(422);
    expect(none.body).toEqual({ message: 'no_face_detected: "images[1]" contains no face', code: 'NO_FACE', field: 'images[1]' });
    const many = await enrol(acme.token, { name: 'Crowd', images: [(await groupJpeg()).toString('base64')] });
    expect(many.status).toBe(422);
    expect(many.body).toEqual({
      message: `multiple_faces_detected: "images[0]" holds 3 faces and two of them could each be the person; name the face with "subject_faces[0]": its index in /detect's answer for this photo (0 is the face used when none is named), or its box {top, left, right, bottom}`,
      code: 'MULTIPLE_FACES',
      field: 'images[0]',
    });
    expect({ persons: countRows('face_persons'), templates: countRows('face_templates'), size: t.index.size() }).toEqual(before);
  });

  it('404 for a collection that does not exist or belongs to another client, before any engine work', async () => {
    const foreign = (await t.request('POST', COLLECTIONS, { token: globex.token, body: { name: 'Globex' } })).body.data;
    for (const ref of ['no-such-collection', foreign._id, foreign.code]) {
      const r = await enrol(acme.token, { name: 'Lost', images: [await faceBase64('s1a')], collections: [staff._id, ref] });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({
        message: 'collection_not_found: "collections[1]" does not name a collection of this client',
        code: 'NOT_FOUND',
        field: 'collections[1]',
      });
    }
  });

  it('leaves no partial rows when a write fails inside the transaction', async () => {
    // The real store, with the second template write failing (as a full disk would).
    const failing: Store = Object.create(t.store);
    failing.transaction = <T>(fn: (tx: Repos) => Promise<T>) =>
      t.store.transaction((tx) => {
        let adds = 0;
        const templates = Object.create(tx.templates);
        templates.add = (row: Parameters<Repos['templates']['add']>[0]) => {
          if (++adds === 2) throw new Error('SQLITE_FULL: database or disk is full');
          return tx.templates.add(row);
        };
        return fn({ ...tx, templates });
      });
    const index = newIndex(engine.dim);
    const other = await startTestApp({ engine, index });
    const { buildApp } = await import('../../src/app.js');
    const app = await buildApp({ config: other.config, store: failing, engine, index, logger: pino({ level: 'silent' }) });
    try {
      const { token } = await t.token('atomic');
      const before = { persons: countRows('face_persons'), templates: countRows('face_templates'), thumbs: countRows('face_thumbnails') };
      const res = await app.inject({
        method: 'POST',
        url: PERSONS,
        headers: { authorization: `Bearer ${token}` },
        payload: { name: 'Half written', images: [await faceBase64('s6c'), await faceBase64('s6c')] },
      });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ message: 'internal_error', code: 'ERROR' });
      expect(res.body).not.toContain('SQLITE');
      expect({ persons: countRows('face_persons'), templates: countRows('face_templates'), thumbs: countRows('face_thumbnails') }).toEqual(before);
      expect(index.size()).toBe(0);
    } finally {
      await app.close();
      await other.close();
    }
  });
});

describe('read', () => {
  it('gets one person and lists with paging, collection filter (by _id or code) and name search', async () => {
    const { token, clientId } = await t.token('reader');
    const team = (await t.request('POST', COLLECTIONS, { token, body: { name: 'Team' } })).body.data;
    const ids: string[] = [];
    for (const [name, face, inTeam] of [
      ['Ann Smith', 's1a', true],
      ['Bob Smith', 's1b', true],
      ['Carl Jones', 's1c', false],
    ] as const) {
      const r = await enrol(token, { name, images: [await faceBase64(face)], collections: inTeam ? [team._id] : [] });
      expect(r.status).toBe(200);
      ids.push(r.body.data._id);
    }
    const one = await t.request('GET', `${PERSONS}/${ids[0]}`, { token });
    expect(one.status).toBe(200);
    expect(one.body.data).toMatchObject({ _id: ids[0], name: 'Ann Smith', client: clientId, collections: [team._id] });
    expect(one.body.data.thumbnails).toHaveLength(1);

    const all = await t.request('GET', PERSONS, { token });
    expect(all.body.pagination).toEqual({ page: 1, limit: 10, total: 3, pages: 1 });
    const page2 = await t.request('GET', `${PERSONS}?page=2&limit=2`, { token });
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.pagination).toEqual({ page: 2, limit: 2, total: 3, pages: 2 });
    for (const key of [team._id, team.code]) {
      const inTeam = await t.request('GET', `${PERSONS}?collection=${key}`, { token });
      expect(inTeam.body.data.map((p: { name: string }) => p.name).sort()).toEqual(['Ann Smith', 'Bob Smith']);
    }
    const smiths = await t.request('GET', `${PERSONS}?name=smith`, { token });
    expect(smiths.body.data.map((p: { name: string }) => p.name).sort()).toEqual(['Ann Smith', 'Bob Smith']);
    const unknown = await t.request('GET', `${PERSONS}?collection=nope`, { token });
    expect(unknown.status).toBe(404);
    expect((await t.request('GET', `${PERSONS}?limit=1000`, { token })).status).toBe(409);
    expect((await t.request('GET', `${PERSONS}/ffffffffffffffffffffffff`, { token })).body).toEqual({ message: 'not_found', code: 'NOT_FOUND' });
  });
});

describe('update', () => {
  it('changes fields partially, clears with null, and moves collections in the index', async () => {
    const created = (await enrol(acme.token, { name: 'Mover', images: [await faceBase64('s5a')], collections: [staff._id], notes: 'n', nationality: 'CO' }))
      .body.data;
    const r = await t.request('PUT', `${PERSONS}/${created._id}`, {
      token: acme.token,
      body: { name: 'Mover Two', notes: null, gender: 'M', collections: [visitors.code] },
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ _id: created._id, name: 'Mover Two', notes: null, gender: 'M', nationality: 'CO', collections: [visitors._id] });
    expect(r.body.data.thumbnails).toEqual(created.thumbnails);
    const q = await embeddingOf('s5a');
    expect(t.index.search(acme.clientId, q, { mode: 'ACCURATE', k: 3, collection: staff._id }).map((h) => h.person)).not.toContain(created._id);
    expect(t.index.search(acme.clientId, q, { mode: 'ACCURATE', k: 3, collection: visitors._id })[0]?.person).toBe(created._id);
    const bad = await t.request('PUT', `${PERSONS}/${created._id}`, { token: acme.token, body: { name: 'x', _id: 'mine' } });
    expect(bad.body).toMatchObject({ message: '"_id" is not allowed', code: 'MissingParameter', field: '_id' });
    expect(bad.body.hint).toBe('fields allowed in the body: name, images, subject_faces, gender, date_of_birth, nationality, collections, notes, external_id');
  });

  it('re-enrols from new images: old templates and thumbnails are replaced, the index follows', async () => {
    const created = (await enrol(acme.token, { name: 'Swapped', images: [await faceBase64('s4a')], collections: [staff._id] })).body.data;
    const oldIds = (await t.store.templates.listForPerson(acme.clientId, created._id)).map((x) => x.id);
    const r = await t.request('PUT', `${PERSONS}/${created._id}`, { token: acme.token, body: { images: [await faceBase64('s3a'), await faceBase64('s3a')] } });
    expect(r.status).toBe(200);
    expect(r.body.data.thumbnails).toHaveLength(2);
    expect(r.body.data.thumbnails[0].thumbnail).not.toBe(created.thumbnails[0].thumbnail);
    expect(r.body.data.thumbnails[0].id).not.toBe(created.thumbnails[0].id);
    const now = await t.store.templates.listForPerson(acme.clientId, created._id);
    expect(now).toHaveLength(2);
    expect(now.some((x) => oldIds.includes(x.id))).toBe(false);
    expect(countRows('face_templates', `id IN (${oldIds.join(',')})`)).toBe(0);
    expect(countRows('face_thumbnails', `template_id IN (${oldIds.join(',')})`)).toBe(0);
    const hit = t.index.search(acme.clientId, await embeddingOf('s3a'), { mode: 'ACCURATE', k: 1, collection: staff._id })[0];
    expect(hit.person).toBe(created._id);
    expect(now.map((x) => x.id)).toContain(hit.templateId);
  });

  it('a failed re-enrolment changes nothing', async () => {
    const created = (await enrol(acme.token, { name: 'Stable', images: [await faceBase64('s6d')] })).body.data;
    const r = await t.request('PUT', `${PERSONS}/${created._id}`, {
      token: acme.token,
      body: { name: 'Should not stick', images: [await faceBase64('s6d'), (await noFaceJpeg()).toString('base64')] },
    });
    expect(r.status).toBe(422);
    const after = await t.request('GET', `${PERSONS}/${created._id}`, { token: acme.token });
    expect(after.body.data).toEqual(created);
  });
});

describe('delete', () => {
  it('erases the person, its templates and thumbnails, and drops it from the index', async () => {
    const created = (await enrol(acme.token, { name: 'Leaver', images: [await faceBase64('s1c')], collections: [staff._id] })).body.data;
    const templateIds = (await t.store.templates.listForPerson(acme.clientId, created._id)).map((x) => x.id);
    expect(templateIds).toHaveLength(1);
    const r = await t.request('DELETE', `${PERSONS}/${created._id}`, { token: acme.token });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ _id: created._id, deleted: true });
    expect(countRows('face_persons', 'id = ?', created._id)).toBe(0);
    expect(countRows('face_templates', `id IN (${templateIds.join(',')})`)).toBe(0);
    expect(countRows('face_thumbnails', `template_id IN (${templateIds.join(',')})`)).toBe(0);
    const hits = t.index.search(acme.clientId, await embeddingOf('s1c'), { mode: 'ACCURATE', k: 10 });
    expect(hits.map((h) => h.person)).not.toContain(created._id);
    expect((await t.request('GET', `${PERSONS}/${created._id}`, { token: acme.token })).status).toBe(404);
    expect((await t.request('DELETE', `${PERSONS}/${created._id}`, { token: acme.token })).status).toBe(404);
  });

  it('deleting a collection removes it from its persons and from the index', async () => {
    const temp = (await t.request('POST', COLLECTIONS, { token: acme.token, body: { name: 'Temporary' } })).body.data;
    const p = (await enrol(acme.token, { name: 'Member', images: [await faceBase64('s6c')], collections: [temp._id, staff._id] })).body.data;
    const q = await embeddingOf('s6c');
    expect(t.index.search(acme.clientId, q, { mode: 'ACCURATE', k: 1, collection: temp._id })[0]?.person).toBe(p._id);
    expect((await t.request('DELETE', `${COLLECTIONS}/${temp.code}`, { token: acme.token })).status).toBe(200);
    expect(t.index.search(acme.clientId, q, { mode: 'ACCURATE', k: 1, collection: temp._id })).toEqual([]);
    expect(t.index.search(acme.clientId, q, { mode: 'ACCURATE', k: 1, collection: staff._id })[0]?.person).toBe(p._id);
    const after = await t.request('GET', `${PERSONS}/${p._id}`, { token: acme.token });
    expect(after.body.data.collections).toEqual([staff._id]);
  });
});

describe('tenant isolation', () => {
  it('another client cannot read, list, update, delete or use the collections of the first', async () => {
    const p = (await enrol(acme.token, { name: 'Private', images: [await faceBase64('s6b')], collections: [staff._id] })).body.data;
    const g = globex.token;
    const get = await t.request('GET', `${PERSONS}/${p._id}`, { token: g });
    expect(get.status).toBe(404);
    expect(get.body).toEqual({ message: 'not_found', code: 'NOT_FOUND' });
    const list = await t.request('GET', `${PERSONS}?limit=100`, { token: g });
    expect(list.body.data.map((x: { _id: string }) => x._id)).not.toContain(p._id);
    expect((await t.request('GET', `${PERSONS}?name=Private`, { token: g })).body.data).toEqual([]);
    expect((await t.request('GET', `${PERSONS}?collection=${staff._id}`, { token: g })).status).toBe(404);
    expect((await t.request('PUT', `${PERSONS}/${p._id}`, { token: g, body: { name: 'Stolen' } })).status).toBe(404);
    expect((await t.request('PUT', `${PERSONS}/${p._id}`, { token: g, body: { images: [await faceBase64('s1a')] } })).status).toBe(404);
    expect((await t.request('DELETE', `${PERSONS}/${p._id}`, { token: g })).status).toBe(404);
    const useColl = await enrol(g, { name: 'Intruder', images: [await faceBase64('s1a')], collections: [staff.code] });
    expect(useColl.status).toBe(404);
    // The owner's person is intact and globex's index holds nothing of acme's.
    const mine = await t.request('GET', `${PERSONS}/${p._id}`, { token: acme.token });
    expect(mine.body.data).toEqual(p);
    const q = await embeddingOf('s6b');
    expect(t.index.search(globex.clientId, q, { mode: 'ACCURATE', k: 10 }).map((h) => h.person)).not.toContain(p._id);
  });
});

describe('engine back-pressure', () => {
  it('503 with Retry-After when the engine queue is full', async () => {
    const busy = newEngine({ queueLimit: 0 });
    await busy.ready();
    const other = await startTestApp({ engine: busy, index: newIndex(busy.dim) });
    try {
      const { token } = await other.token('busy');
      const img = await faceBase64('s6a');
      const results = await Promise.all([0, 1, 2].map(() => other.request('POST', PERSONS, { token, body: { name: 'Rush', images: [img] } })));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses[0]).toBe(200);
      const refused = results.find((r) => r.status === 503);
      expect(refused, `statuses ${statuses}`).toBeDefined();
      expect(refused!.body).toEqual({ message: 'engine_busy', code: 'ERROR' });
      expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await other.close();
      await busy.close();
    }
  });
});
