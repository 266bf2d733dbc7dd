// `npm run bench -- console [--persons N] [--runs R]`
// The operator console's speed, in Debian's chromium (playwright-core) against the real server on a port:
//  - size: the built page's JavaScript and CSS, raw and gzipped (target: JS ≤ 150 KB gzipped);
//  - first_load: a signed-in operator opening /console in a fresh browser context (empty cache) with the server
//    warm, from navigation start to the collections list on screen; median and max of R runs (target < 1 s);
//  - persons: a collection of N persons (written straight to the store, no photos needed to page names): the
//    list API's first page, a deep page by keyset (`after`), the same depth by `page` offset for contrast, a name
//    filter, and the console's persons grid opening on that collection.
// Prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { buildConsole } from '../console/build.js';
import { buildApp, createLogger } from '../src/app.js';
import { defaultConfig } from '../src/config.js';
import { issueToken } from '../src/domain/tokens.js';
import { createFaceEngine } from '../src/face/index.js';
import { createFaceIndex } from '../src/index/index.js';
import { openSqliteStore } from '../src/store/sqlite.js';

const { values: args } = parseArgs({
  options: {
    persons: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '10' },
  },
});
const personCount = Number(args.persons);
const runs = Number(args.runs);
const CHROMIUM = '/usr/bin/chromium';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const round = (x: number) => Math.round(x * 10) / 10;

const built = await buildConsole();
const dataDir = mkdtempSync(path.join(tmpdir(), 'facegate-bench-console-'));
const config = defaultConfig({ dataDir, logLevel: 'error' });
const store = openSqliteStore({ dataDir });
const engine = createFaceEngine({ workers: 1 });
await engine.ready();
const app = await buildApp({ config, store, engine, index: createFaceIndex({ dim: engine.dim }), logger: createLogger(config) });
await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address();
const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

try {
  const { token, client } = await issueToken(store, { clientName: 'bench' });
  const col = await store.collections.create({ client: client.id, name: 'Members', description: '' });
  const t0 = performance.now();
  const BATCH = 5000;
  for (let i = 0; i < personCount; i += BATCH) {
    await store.transaction(async (tx) => {
      for (let j = i; j < Math.min(personCount, i + BATCH); j++) {
        await tx.facePersons.create({ client: client.id, name: `Person ${j}`, gender: null, dateOfBirth: null, nationality: null, notes: null, collections: [col.id] });
      }
    });
  }
  const populateS = (performance.now() - t0) / 1000;

  const signIn = await fetch(`${base}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const sessionId = /facegate_session=([^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')![1];
  const cookie = `facegate_session=${sessionId}`;

  // ---- the list API at depth
  const timeGet = async (url: string, n = 20) => {
    const ms: number[] = [];
    let status = 0;
    for (let i = 0; i < n; i++) {
      const a = performance.now();
      const res = await fetch(base + url, { headers: { cookie } });
      await res.arrayBuffer();
      status = res.status;
      ms.push(performance.now() - a);
    }
    if (status !== 200) throw new Error(`${url} answered ${status}`);
    return { median_ms: round(median(ms)), max_ms: round(Math.max(...ms)) };
  };
  const P = '/v2/face-recognition/persons';
  // Near the end of the list: 1 000 persons before it (or the last tenth of a small collection).
  const depth = personCount - Math.min(1000, Math.ceil(personCount / 10));
  const deepPage = Math.max(2, Math.floor(depth / 24) + 1);
  // The person at that depth, newest first: the cursor the console would hold after paging that far.
  const cursor = (await store.facePersons.list(client.id, { page: deepPage - 1, limit: 24, collection: col.id })).items.at(-1)!.id;
  const api = {
    first_page: await timeGet(`${P}?collection=${col.id}&limit=24`),
    deep_keyset: await timeGet(`${P}?collection=${col.id}&limit=24&after=${cursor}`),
    deep_offset: await timeGet(`${P}?collection=${col.id}&limit=24&page=${deepPage}`),
    name_filter: await timeGet(`${P}?collection=${col.id}&limit=24&name=${encodeURIComponent('Person 4242')}`),
  };

  // ---- the server's share of the first load: the page's requests in their dependency order, without a browser
  const criticalPath: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const a = performance.now();
    const html = await (await fetch(`${base}/console`)).text();
    const assets = [...html.matchAll(/\/console\/assets\/[^"]+/g)].map((m) => m[0]);
    await Promise.all(assets.map(async (u) => (await fetch(base + u, { headers: { 'accept-encoding': 'br, gzip' } })).arrayBuffer()));
    await (await fetch(`${base}/console/api/session`, { headers: { cookie } })).arrayBuffer();
    await (await fetch(`${base}/v2/face-recognition/collections?page=1&limit=20`, { headers: { cookie } })).arrayBuffer();
    if (i > 0) criticalPath.push(performance.now() - a);
  }

  // ---- the page in chromium
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const load = async (hash: string, ready: string) => {
    const ms: number[] = [];
    const pageMs: number[] = [];
    const dcl: number[] = [];
    const transfer: number[] = [];
    // One unmeasured run warms the server's code paths (the target is a warm server, cold browser).
    for (let i = 0; i <= runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      await context.addCookies([{ name: 'facegate_session', value: sessionId, url: base, httpOnly: true, sameSite: 'Strict' }]);
      const page = await context.newPage();
      let bytes = 0;
      page.on('response', async (r) => {
        const len = Number((await r.allHeaders())['content-length'] ?? 0);
        bytes += len;
      });
      const a = performance.now();
      await page.goto(`${base}/console${hash}`, { waitUntil: 'commit' });
      await page.locator(ready).first().waitFor({ timeout: 30_000 });
      const elapsed = performance.now() - a;
      // The same span on the page's own clock (from its navigation start), without the browser's process start-up.
      const inPage = await page.evaluate(() => performance.now());
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return { ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd };
      });
      if (i > 0) {
        ms.push(elapsed);
        pageMs.push(inPage);
        dcl.push(nav.dcl);
        transfer.push(bytes);
      }
      await context.close();
    }
    return {
      median_ms: round(median(ms)),
      max_ms: round(Math.max(...ms)),
      in_page_median_ms: round(median(pageMs)),
      dom_content_loaded_median_ms: round(median(dcl)),
      runs,
      transferred_kb: round(median(transfer) / 1024),
    };
  };
  const firstLoad = await load('#/collections', '.collection h2 a');
  const personsGrid = await load(`#/collections/${col.id}`, '.grid .name');
  await browser.close();

  console.log(
    JSON.stringify({
      bench: 'console',
      // Timings in a browser are CPU-bound: say how busy the machine was.
      machine: { cpus: cpus().length, load_average_1m: round(loadavg()[0]) },
      size: {
        js_kb: round(built.jsBytes / 1024),
        js_gzip_kb: round(built.jsGzipBytes / 1024),
        js_gzip_target_kb: 150,
      },
      first_load: {
        ...firstLoad,
        target_ms: 1000,
        until: 'collections list on screen, signed in, empty browser cache',
        server_critical_path_median_ms: round(median(criticalPath)),
      },
      persons: { count: personCount, populate_s: round(populateS), api, grid_load: personsGrid },
    }),
  );
} finally {
  await app.close();
  await engine.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
