// The <facegate-liveness> component on a relying party's page on another origin, end to end in Debian's chromium
// with its fake webcam: examples/relying-party/server.mjs (its own port) creates the session with its client token,
// its page loads the component from Facegate and gets only the capture credential, the component runs the
// challenge (started from the keyboard), and the backend enrols the person from the session. The live webcam
// capture (../shared/faces/video/real-camera.mjpeg) must end enrolled; its phone replay must not. Every page is
// audited with axe-core; no request URL ever holds the credential.
// Skipped when /usr/bin/chromium is missing (except in CI, which installs it); the captures need ../shared/faces/video.
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error: a plain ES module example, no types
import { startRelyingParty } from '../../examples/relying-party/server.mjs';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { chromiumMissing, haveVideos, launchWithFakeCamera, VIDEO } from '../support/fakeCamera.js';
import { newEngine, newIndex } from '../support/parts.js';

const missing = chromiumMissing;
if (missing && process.env.CI) throw new Error(`browser tests cannot run in CI: ${missing}`);
const haveVideo = haveVideos;
if (!haveVideo && process.env.CI) throw new Error(`the component's end-to-end test needs ${VIDEO} in CI`);
const noVideo = haveVideo ? '' : `${VIDEO} is missing`;


describe.skipIf(missing !== '')(`<facegate-liveness> on a relying party's page${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let engine: WorkerFaceEngine;
  let t: TestApp;
  let facegate: string;
  let token: string;
  let rp: Server;
  let rpBase: string;
  const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

  beforeAll(async () => {
    engine = newEngine();
    await engine.ready();
    t = await startTestApp({ engine, index: newIndex(engine.dim) });
    ({ token } = await t.token('shop'));
    facegate = await t.app.listen({ host: '127.0.0.1', port: 0 });
    // The live capture turns the head to the person's right, then smiles: the backend's policy asks for exactly that.
    // Three attempts, as a person gets: a live attempt can fail a check of the challenge (docs/liveness-sessions.md).
    rp = await startRelyingParty({ facegate, token, port: 0, steps: ['turn_right', 'smile'], maxAttempts: 3 });
    rpBase = `http://127.0.0.1:${(rp.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => rp?.close(r));
    await t?.close();
    await engine?.close();
  });

  async function audit(page: Page, what: string): Promise<void> {
    await page.evaluate(await axeSource);
    const violations = await page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(ctx: Document): Promise<{ violations: { id: string; impact: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
      return (await axe.run(document)).violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3) }));
    });
    expect(violations, `axe on ${what}: ${JSON.stringify(violations)}`).toEqual([]);
  }

  /** Runs the relying party's page on `video` until it shows its result; started with the keyboard. */
  async function signUp(video: string) {
    const browser = await launchWithFakeCamera(video);
    try {
      const page = await browser.newPage({ viewport: { width: 720, height: 900 } });
      const errors: string[] = [];
      const urls: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => urls.push(r.url()));
      await page.goto(rpBase);
      const start = page.locator('facegate-liveness button.start');
      await start.waitFor();
      await audit(page, `the sign-up page before the capture (${video})`);
      // Reduced motion: the cue does not move.
      await page.emulateMedia({ reducedMotion: 'reduce' });
      const animation = await page.locator('facegate-liveness .cue').evaluate((e) => getComputedStyle(e).animationName);
      expect(animation).toBe('none');
      await page.emulateMedia({ reducedMotion: 'no-preference' });
      await start.focus();
      await page.keyboard.press('Enter');
      // A failed attempt with one left shows "Try again" (focused): the person presses it, as a person would.
      const verdict = '#result[data-result], facegate-liveness button.retry:not([hidden])';
      // The looped clip may be mid-turn the wrong way when an attempt starts (wrong_order): retry while attempts last.
      let shown = await page.waitForSelector(verdict, { timeout: 280_000 });
      while ((await shown.getAttribute('id')) !== 'result') {
        await page.keyboard.press('Enter');
        await page.waitForSelector('facegate-liveness button.retry[hidden]', { state: 'attached', timeout: 30_000 });
        shown = await page.waitForSelector(verdict, { timeout: 280_000 });
      }
      const result = shown;
      await audit(page, `the sign-up page after the verdict (${video})`);
      const session = await page.locator('facegate-liveness').getAttribute('session');
      const capture = await page.evaluate(() => document.querySelector('facegate-liveness')?.getAttribute('credential'));
      expect(capture, 'the credential attribute is never in the DOM').toBeNull();
      expect(urls.filter((u) => /fgls_/.test(u)), 'no URL carries the capture credential').toEqual([]);
      expect(errors).toEqual([]);
      return { result: await result.getAttribute('data-result'), text: await result.textContent(), session };
    } finally {
      await browser.close();
    }
  }

  it('serves the component to other origins (CORS), and answers CORS only on the capture routes', async () => {
    const mod = await t.request('GET', '/capture/facegate-liveness.js');
    expect(mod.headers['access-control-allow-origin']).toBe('*');
    const pre = await t.request('OPTIONS', '/v2/face-recognition/liveness/sessions/abc/frames', {
      headers: { origin: rpBase, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(rpBase);
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const persons = await t.request('GET', '/v2/face-recognition/persons', { token, headers: { origin: rpBase } });
    expect(persons.headers['access-control-allow-origin']).toBeUndefined();
    const other = await t.request('OPTIONS', '/v2/face-recognition/persons', { headers: { origin: rpBase, 'access-control-request-method': 'GET' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('a session bound to the relying party\'s origin refuses its credential from another origin', async () => {
    const s = (await t.request('POST', '/v2/face-recognition/liveness/sessions', { token, body: { allowed_origin: rpBase } })).body.data;
    const own = await t.request('GET', `/v2/face-recognition/liveness/sessions/${s.session_id}`, { token: s.capture_token, headers: { origin: rpBase } });
    expect(own.status).toBe(200);
    expect(own.headers['access-control-allow-origin']).toBe(rpBase);
    const evil = await t.request('GET', `/v2/face-recognition/liveness/sessions/${s.session_id}`, { token: s.capture_token, headers: { origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
  });

  it.skipIf(noVideo !== '')(`the live webcam capture signs up: the backend enrols the person from the session${noVideo ? ` (skipped: ${noVideo})` : ''}`, async () => {
    const { result, text, session } = await signUp('real-camera.mjpeg');
    const s = (await t.request('GET', `/v2/face-recognition/liveness/sessions/${session}`, { token })).body.data;
    expect(result, `${text}: ${JSON.stringify({ status: s.status, score: s.score, failure: s.failure, results: s.results })}`).toBe('enrolled');
    expect(s).toMatchObject({ status: 'SUCCEEDED', consumed: true });
  }, 330_000);

  it.skipIf(noVideo !== '')(`a phone replay of the same person does not sign up${noVideo ? ` (skipped: ${noVideo})` : ''}`, async () => {
    const { result, text, session } = await signUp('replay-camera.mjpeg');
    expect(result, text ?? '').not.toBe('enrolled');
    const s = (await t.request('GET', `/v2/face-recognition/liveness/sessions/${session}`, { token })).body.data;
    expect(s.status).not.toBe('SUCCEEDED');
  }, 330_000);
});
