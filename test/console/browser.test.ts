// The console in a real browser: Debian's chromium driven by playwright-core against the real server (real face
// engine, real SQLite, listening on a port). One operator's day: sign in, create a collection, enrol two people
// from photos, find one by photo, erase the other and see it gone from search, sign out; a second tenant sees none
// of it. Every page is audited with axe-core and checked for CSP violations and for overflow at 360 px.
// With CONSOLE_SCREENSHOTS=DIR the walk also saves a screenshot of each page there (docs/console.md uses them).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../console/build.js';
import type { WorkerFaceEngine } from '../../src/face/index.js';
import { startTestApp, type TestApp } from '../support/harness.js';
import { faceJpeg, groupJpeg } from '../support/photos.js';
import { newEngine, newIndex } from '../support/parts.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const shots = process.env.CONSOLE_SCREENSHOTS;

if (!haveChromium) {
  console.warn(`console browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
}

// In CI the browser is installed by .ci/run, so a missing one is a failure, never a silent skip.
describe.runIf(!haveChromium && process.env.CI)('CI', () => {
  it('has chromium installed', () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing in CI`).toBe(true);
  });
});

describe.skipIf(!haveChromium)('the console in chromium', () => {
  let engine: WorkerFaceEngine;
  let t: TestApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let acmeToken: string;
  let globexToken: string;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const axeSource = readFileSync('axe-core/axe.min.js');

  function readFileSync(pkgFile: string): Promise<string> {
    return readFile(createRequire(import.meta.url).resolve(pkgFile), 'utf8');
  }

  const photo = async (name: Parameters<typeof faceJpeg>[0]) => ({ name: `${name}.jpg`, mimeType: 'image/jpeg', buffer: await faceJpeg(name) });

  async function audit(p: Page, what: string): Promise<void> {
    await p.evaluate(await axeSource);
    const res = await p.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
    });
    const serious = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `axe violations on ${what}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
  }

  /** No horizontal scrolling at 360 px: everything wraps or scrolls inside its own box. */
  async function fitsNarrow(p: Page, what: string): Promise<void> {
    const size = p.viewportSize();
    await p.setViewportSize({ width: 360, height: 740 });
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, `${what} is wider than 360 px`).toBeLessThanOrEqual(0);
    if (shots) await p.screenshot({ path: path.join(shots, `mobile-${what}.png`), fullPage: true });
    if (size) await p.setViewportSize(size);
  }

  async function shot(name: string, full = true): Promise<void> {
    if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: full });
  }

  async function signIn(p: Page, token: string): Promise<void> {
    await p.goto(`${base}/console`);
    await p.getByLabel('API token').waitFor();
    // Keyboard only: the token field takes focus with Tab, Enter submits.
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => document.activeElement?.id)).toBe('token');
    await p.keyboard.type(token);
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Collections', level: 1 }).waitFor();
  }

  async function search(p: Page, file: { name: string; mimeType: string; buffer: Buffer }, collection?: string): Promise<void> {
    await p.goto(`${base}/console#/search`);
    await p.getByRole('heading', { name: 'Search by photo' }).waitFor();
    await p.locator('input[type=file]').setInputFiles(file);
    if (collection) await p.getByLabel('Look in').selectOption({ label: collection });
    await p.getByRole('button', { name: 'Search', exact: true }).click();
    await p.locator('.search-result').waitFor({ timeout: 60_000 });
  }

  beforeAll(async () => {
    if (shots) await mkdir(shots, { recursive: true });
    await buildConsole();
    engine = newEngine();
    await engine.ready();
    t = await startTestApp({ engine, index: newIndex(engine.dim) });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = t.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    acmeToken = (await t.token('acme')).token;
    globexToken = (await t.token('globex')).token;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme: 'light' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await engine?.close();
  });

  it('signs in with the keyboard; the token stays out of page storage and script-readable cookies', async () => {
    await page.goto(`${base}/console`);
    await page.getByLabel('API token').waitFor();
    await shot('signin', false);
    await audit(page, 'sign-in');
    await signIn(page, acmeToken);
    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    expect(stored).not.toContain(acmeToken);
    expect(stored).toBe('{"local":{},"session":{},"cookie":""}');
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: '__Host-facegate_session', httpOnly: true, secure: true, sameSite: 'Strict' })]);
    expect(cookies[0].value).not.toContain(acmeToken);
    await expect(page.getByText('No collections yet.')).toBeTruthy();
    await page.getByText('No collections yet.').waitFor();
  }, 60_000);

  it('creates a collection and enrols two people from photos', async () => {
    await page.getByLabel('New collection name').fill('Front desk');
    await page.getByLabel('Description (optional)').fill('Members who may enter the gym');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await page.getByRole('link', { name: 'Front desk' }).waitFor();
    await page.getByText('0 persons ·').waitFor();
    await shot('collections', false);
    await audit(page, 'collections');
    await fitsNarrow(page, 'collections');

    await page.getByRole('link', { name: 'Front desk' }).click();
    await page.getByRole('heading', { name: 'Front desk', level: 1 }).waitFor();
    await page.getByText('Nobody is enrolled in this collection yet.').waitFor();
    await audit(page, 'empty collection');

    for (const [name, face] of [['Ana Lima', 's3a'], ['Bia Costa', 's6a']] as const) {
      await page.getByRole('button', { name: 'Enrol a person' }).click();
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.locator('input[type=file]').setInputFiles(await photo(face));
      await page.getByRole('img', { name: `Chosen photo 1: ${face}.jpg` }).waitFor();
      if (name === 'Bia Costa') {
        await audit(page, 'enrol form');
        await shot('enrol', false);
      }
      await page.getByRole('button', { name: 'Enrol', exact: true }).click();
      await page.getByRole('status').filter({ hasText: `Enrolled ${name}` }).waitFor({ timeout: 60_000 });
      await page.getByRole('link', { name: new RegExp(name) }).first().waitFor();
    }
    // The grid reloads after each enrolment: wait for it rather than read it mid-reload (seen empty once on a loaded machine).
    await expect.poll(() => page.locator('.grid .name').allTextContents(), { timeout: 10_000 }).toEqual(['Bia Costa', 'Ana Lima']);
    await shot('persons', false);
    await audit(page, 'persons grid');
    await fitsNarrow(page, 'persons');

    await page.getByLabel('Filter by name').fill('ana');
    await page.waitForFunction(() => document.querySelectorAll('.grid .name').length === 1);
    expect(await page.locator('.grid .name').allTextContents()).toEqual(['Ana Lima']);
    await page.getByLabel('Filter by name').fill('nobody-here');
    await page.getByText('No person\'s name contains “nobody-here”.').waitFor();
    await page.getByLabel('Filter by name').fill('');
    await page.waitForFunction(() => document.querySelectorAll('.grid .name').length === 2);
  }, 180_000);

  it('says in words what is wrong with a photo without a face', async () => {
    await page.getByRole('button', { name: 'Enrol a person' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Nobody');
    const { noFaceJpeg } = await import('../support/photos.js');
    await page.locator('input[type=file]').setInputFiles({ name: 'wall.jpg', mimeType: 'image/jpeg', buffer: await noFaceJpeg() });
    await page.getByRole('button', { name: 'Enrol', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'No face was found in photo 1' }).waitFor({ timeout: 60_000 });
    await shot('enrol-error', false);
    await page.getByRole('button', { name: 'Cancel' }).click();
  }, 90_000);

  it('finds Ana from another photo of her, face boxed, candidates with thumbnails and scores', async () => {
    await search(page, await photo('s1c'), 'Front desk');
    const first = page.locator('.candidates li').first();
    await expect(await first.locator('a').textContent()).toBe('Ana Lima');
    expect(await first.getAttribute('class')).toBe('match');
    const score = Number(await first.locator('.score span').textContent());
    expect(score).toBeGreaterThanOrEqual(0.8);
    expect(await page.locator('.boxed rect').count()).toBe(1);
    expect(await first.locator('img').count()).toBe(1);
    await audit(page, 'search');

    // A group photo: every face is boxed and searched on its own.
    await search(page, { name: 'group.jpg', mimeType: 'image/jpeg', buffer: await groupJpeg() });
    expect(await page.locator('.boxed rect').count()).toBe(3);
    expect(await page.locator('.face-results > li').count()).toBe(3);
    const anaRows = page.locator('.candidates li.match a', { hasText: 'Ana Lima' });
    expect(await anaRows.count()).toBe(1);
    await shot('search');
    await fitsNarrow(page, 'search');
  }, 180_000);

  it('shows a person and erases the other after a confirmation naming them; search no longer finds them', async () => {
    await page.goto(`${base}/console#/collections`);
    await page.getByRole('link', { name: 'Front desk' }).click();
    await page.getByRole('link', { name: /Bia Costa/ }).click();
    await page.getByRole('heading', { name: 'Bia Costa', level: 1 }).waitFor();
    await page.getByRole('img', { name: 'Enrolled face 1 of Bia Costa' }).waitFor();
    await shot('person', false);
    await audit(page, 'person');
    await fitsNarrow(page, 'person');

    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Notes').fill('Morning shift');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Morning shift').waitFor();

    await page.getByRole('button', { name: 'Erase person' }).click();
    const dialog = page.getByRole('dialog', { name: 'Erase Bia Costa?' });
    await dialog.waitFor();
    await shot('erase', false);
    await audit(page, 'erase dialog');
    // Escape cancels: nothing is erased.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Erase person' }).click();
    await dialog.getByRole('button', { name: 'Erase Bia Costa' }).click();
    await page.getByRole('heading', { name: 'Front desk', level: 1 }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.grid .name').length === 1);
    expect(await page.locator('.grid .name').allTextContents()).toEqual(['Ana Lima']);

    await search(page, await photo('s6a'));
    expect(await page.locator('.candidates a', { hasText: 'Bia Costa' }).count()).toBe(0);
    expect(await page.locator('.candidates li.match').count()).toBe(0);
  }, 180_000);

  it('compares two photos and checks liveness', async () => {
    await page.goto(`${base}/console#/compare`);
    await page.getByRole('heading', { name: 'Compare two photos' }).waitFor();
    const inputs = page.locator('input[type=file]');
    await inputs.nth(0).setInputFiles(await photo('s1c'));
    await inputs.nth(1).setInputFiles(await photo('s3a'));
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    const verdict = page.locator('.verdict');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.locator('.big').textContent()).toBe('Same person');
    expect(Number(/Score ([\d.]+)/.exec((await verdict.textContent()) ?? '')?.[1])).toBeGreaterThanOrEqual(0.8);
    await shot('compare', false);
    await audit(page, 'compare');
    await fitsNarrow(page, 'compare');

    await page.goto(`${base}/console#/liveness`);
    await page.getByRole('heading', { name: 'Liveness check' }).waitFor();
    await page.locator('input[type=file]').setInputFiles(await photo('s4a'));
    await page.getByRole('button', { name: 'Check', exact: true }).click();
    await page.getByText(/Liveness score \d/).waitFor({ timeout: 60_000 });
    await shot('liveness', false);
    await audit(page, 'liveness');
  }, 120_000);

  it('lists person records with their verification status, and the server status', async () => {
    await t.request('POST', '/v2/persons', { token: acmeToken, body: { firstName: 'Carla', lastName: 'Souza', email: 'carla@example.com', documentType: 'CC', documentNumber: '1020304050' } });
    await t.request('POST', '/v2/persons', { token: acmeToken, body: { firstName: 'Diego', lastName: 'Ramos', phone: '+57 300 555 0101' } });
    const live = await t.request('POST', '/v2/persons/liveness', {
      token: acmeToken,
      body: { firstName: 'Elena', lastName: 'Vidal', biometricData: { faceImage: (await faceJpeg('s4a')).toString('base64') }, liveness_min_score: 0.6 },
    });
    expect(live.status).toBe(200);
    await page.goto(`${base}/console#/records`);
    await page.getByRole('cell', { name: 'Carla Souza' }).waitFor();
    const status = live.body.data.verificationStatus === 'verified' ? 'Verified' : 'Failed';
    expect(await page.locator('.badge').allTextContents()).toEqual([status, 'Pending', 'Pending']);
    await shot('records', false);
    await audit(page, 'records');
    await fitsNarrow(page, 'records');

    await page.goto(`${base}/console#/status`);
    await page.getByRole('heading', { name: 'Server status' }).waitFor();
    await page.getByText('Ready', { exact: true }).waitFor();
    await page.getByRole('cell', { name: 'Front desk' }).waitFor();
    // Server-wide metrics span every tenant: a tenant's console does not get them (/metrics wants METRICS_TOKEN).
    await page.getByRole('note').filter({ hasText: 'METRICS_TOKEN' }).waitFor();
    expect(await page.getByRole('cell', { name: /POST \/v2\/face-recognition\/search/ }).count()).toBe(0);
    await shot('status', false);
    await audit(page, 'status');
    await fitsNarrow(page, 'status');
  }, 60_000);

  it('renames a collection, and deletes one after saying how many persons it holds', async () => {
    await page.goto(`${base}/console#/collections`);
    await page.getByText('1 person ·').waitFor();
    await page.getByRole('button', { name: 'Delete Front desk' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete the collection “Front desk”?' });
    await dialog.getByText('1 person leaves this collection.').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.getByLabel('New collection name').fill('Tmp');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await page.getByRole('button', { name: 'Rename Tmp' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Visitors');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'Visitors' }).waitFor();
    await page.getByRole('button', { name: 'Delete Visitors' }).click();
    const del = page.getByRole('dialog', { name: 'Delete the collection “Visitors”?' });
    await del.getByText('It holds no persons.').waitFor();
    await del.getByRole('button', { name: 'Delete collection' }).click();
    await page.getByRole('link', { name: 'Visitors' }).waitFor({ state: 'detached' });
    // The list reloads after the deletion: poll it rather than read it mid-reload (read empty twice under load).
    await expect.poll(() => page.locator('.collection h2').allTextContents(), { timeout: 10_000 }).toEqual(['Front desk']);
  }, 60_000);

  it('signs out: the cookie is gone and the API refuses the old session', async () => {
    const before = (await context.cookies())[0].value;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(await context.cookies()).toEqual([]);
    const res = await t.request('GET', '/v2/face-recognition/collections', { headers: { cookie: `__Host-facegate_session=${before}` } });
    expect(res.status).toBe(401);
    await page.reload();
    await page.getByLabel('API token').waitFor();
  }, 30_000);

  it('a second tenant sees none of it', async () => {
    await signIn(page, globexToken);
    await page.getByText('Tenant globex').waitFor();
    await page.getByText('No collections yet.').waitFor();
    await page.goto(`${base}/console#/persons`);
    await page.getByText('Nobody is enrolled yet.').waitFor();
    await search(page, await photo('s1c'));
    expect(await page.locator('.candidates li').count()).toBe(0);
    await page.getByText('Nobody enrolled scores 0.5 or more against this face.').waitFor();
    await page.goto(`${base}/console#/records`);
    await page.getByText('No person records yet.').waitFor();
    await audit(page, 'records empty');
  }, 90_000);

  it('ran without CSP violations or script errors', () => {
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
