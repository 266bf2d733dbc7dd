// Which face of a photo the API uses (src/domain/subject.ts), through the whole HTTP stack on the real engine: a
// neighbour cut by the frame is not the subject even when its box is as large; a photo of people posing together
// is refused for enrolment with an error saying how to name the face, and naming it (by /detect's index or by its
// box) works in enrolment, search and compare. Photos: face-api's demo pictures (always installed).
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { newEngine, newIndex } from '../support/parts.js';
import { faceBase64, faceJpeg, groupJpeg } from '../support/photos.js';

const API = '/v2/face-recognition';

/**
 * A portrait (s6c, centred) with someone else's face (s1a, shown larger) cut in half by the right edge, as press
 * photos often have: the neighbour's box is as large as the subject's.
 */
async function portraitWithCutNeighbour(): Promise<string> {
  const subject = await faceJpeg('s6c');
  const s = (await sharp(subject).metadata()).width!;
  const neighbour = await sharp(await faceJpeg('s1a')).resize(640, 640).toBuffer();
  const cutNeighbour = await sharp(neighbour).extract({ left: 0, top: 0, width: 320, height: 640 }).toBuffer();
  return (
    await sharp({ create: { width: 960, height: 640, channels: 3, background: { r: 120, g: 120, b: 120 } } })
      .composite([
        { input: cutNeighbour, left: 640, top: 0 },
        { input: subject, left: Math.round((960 - s) / 2), top: Math.round((640 - s) / 2) },
      ])
      .jpeg({ quality: 92 })
      .toBuffer()
  ).toString('base64');
}

describe('subject selection', () => {
  let engine: WorkerFaceEngine;
  let t: TestApp;
  let token: string;
  let portrait: string;
  let group: string;

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    t = await startTestApp({ engine, index: newIndex(engine.dim) });
    ({ token } = await t.token('acme'));
    portrait = await portraitWithCutNeighbour();
    group = (await groupJpeg()).toString('base64');
  });

  afterAll(async () => {
    await t?.close();
    await engine?.close();
  });

  const post = (url: string, body: unknown) => t.request('POST', `${API}${url}`, { token, body });

  it('a face cut by the frame is not the subject: detect answers the framed face first, and enrolment, search and compare use it', async () => {
    const detected = await post('/detect', { image: portrait });
    expect(detected.status).toBe(200);
    expect(detected.body.data.length).toBe(2);
    const [first, second] = detected.body.data;
    expect(first.box.right).toBeLessThan(900); // inside the frame
    expect(second.box.right).toBeGreaterThan(940); // the neighbour reaches the edge

    const enrolled = await post('/persons', { name: 'Framed', images: [portrait] });
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
    // The enrolled face is the subject's: a photo of the subject alone finds it, one of the neighbour does not.
    const bySubject = await post('/search', { images: [await faceBase64('s6c')], min_score: 0.5 });
    expect(bySubject.body.data.map((p: { id: string }) => p.id)).toContain(enrolled.body.data._id);
    const byNeighbour = await post('/search', { images: [await faceBase64('s1a')], min_score: 0.5 });
    expect(byNeighbour.body.data.map((p: { id: string }) => p.id)).not.toContain(enrolled.body.data._id);

    const compared = await post('/compare', { probe: [portrait], gallery: [await faceBase64('s6c')] });
    expect(compared.status).toBe(200);
    expect(compared.body.data.score).toBeGreaterThan(0.9);
    expect(compared.body.warnings[0]).toMatchObject({ field: 'probe[0]', faces_detected: 2, face_used: first.box });
  });

  it('people posing together are refused for enrolment, with an error that says how to name the face', async () => {
    const r = await post('/persons', { name: 'Crowd', images: [group] });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ code: 'MULTIPLE_FACES', field: 'images[0]' });
    expect(r.body.message).toContain('"subject_faces[0]"');
    expect(r.body.message).toContain('/detect');
  });

  it('the caller names the face by its index in /detect or by its box, in enrolment, search and compare', async () => {
    const faces = (await post('/detect', { image: group })).body.data as { box: Record<string, number> }[];
    expect(faces.length).toBeGreaterThan(2);
    const byIndex = await post('/persons', { name: 'Second', images: [group], subject_faces: [1] });
    expect(byIndex.status, JSON.stringify(byIndex.body)).toBe(200);
    const byBox = await post('/persons', { name: 'Second again', images: [group], subject_faces: [faces[1].box] });
    expect(byBox.status, JSON.stringify(byBox.body)).toBe(200);

    // The same face, named in the probe: both records answer with the same photo's face, at the top.
    const found = await post('/search-active-user', { image: group, subject_face: 1, os: 'DESKTOP', min_score: 0.9, search_mode: 'ACCURATE' });
    expect(found.status).toBe(200);
    expect(found.body.warnings).toBeUndefined();
    expect(found.body.data.map((m: { id: string }) => m.id).sort()).toEqual([byIndex.body.data._id, byBox.body.data._id].sort());
    // Another face of the photo is someone else.
    const other = await post('/search-active-user', { image: group, subject_face: 2, os: 'DESKTOP', min_score: 0.9, search_mode: 'ACCURATE' });
    expect(other.body.data.map((m: { id: string }) => m.id)).not.toContain(byIndex.body.data._id);

    const same = await post('/compare', { probe: [group], probe_faces: [1], gallery: [group], gallery_faces: [faces[1].box] });
    expect(same.body.data.score).toBeGreaterThan(0.95);
    const different = await post('/compare', { probe: [group], probe_faces: [1], gallery: [group], gallery_faces: [2] });
    expect(different.body.data.score).toBeLessThan(0.5);
  });

  it('a face that does not exist, or a box where there is no face, is a 4xx naming the field', async () => {
    const tooFar = await post('/persons', { name: 'Nobody', images: [group], subject_faces: [9] });
    expect(tooFar.status).toBeGreaterThanOrEqual(400);
    expect(tooFar.status).toBeLessThan(500);
    expect(tooFar.body.field).toBe('subject_faces[0]');
    const nowhere = await post('/persons', { name: 'Nobody', images: [group], subject_faces: [{ top: 0, left: 0, right: 20, bottom: 20 }] });
    expect(nowhere.body.field).toBe('subject_faces[0]');
    const notABox = await post('/persons', { name: 'Nobody', images: [group], subject_faces: [{ top: 50, left: 50, right: 10, bottom: 10 }] });
    expect(notABox.body.field).toBe('subject_faces[0]');
    const tooMany = await post('/persons', { name: 'Nobody', images: [group], subject_faces: [0, 1] });
    expect(tooMany.body.field).toBe('subject_faces');
  });
});
