// Passive liveness, measured through the use case the /liveness route calls (src/domain/search.ts: captureLiveness
// and livenessVerdict, on a real engine pool): `npm run eval -- liveness [--parts fit,report] [--every N]
// [--workers N] [--min-score 0.6] [--sources pad-dev,video,…] [--keep FILE] [--out result.json]`. With --keep, every
// measured capture is appended to FILE and a rerun measures only what FILE lacks (a long run can be stopped and
// resumed; the report covers everything in FILE that the options select). JSON on stdout, progress on stderr. Needs ../shared/faces
// (or FACEGATE_FACES=DIR).
//
// Captures (never copied into the repo), each with the part it belongs to. FIT is what the shipped numbers
// (src/face/liveness/fusion.ts) were fitted on; REPORT was never looked at while fitting:
// - pad-dev (Idiap Replay-Attack train clients, research licence): every video is one capture of its 5 frames
//   (~4 s); its 15 clients sorted by name, even positions FIT, odd positions REPORT (leave-clients-out). Per attack
//   type (print; photo or video on a phone = "mobile", or on a tablet = "highdef") and lighting. Hand-held vs fixed
//   cannot be told apart: labels.csv lists each attack folder twice, once per support (150 attack videos, not 300).
// - video: one person's live webcam capture and a phone replay of that person (another camera, another attack
//   device, another person: a source of its own). Captures of 5 frames 0.8 s apart (3.2 s, as pad-dev's), every
//   frame in exactly one capture; the first half of each recording FIT, the second REPORT.
// - liveness-crops: face crops cut tight from other webcams (live and screen replays): single frames, every 8th.
// - photos: highres/, tv-crops/ and face-api's demo samples, live only (BPCER on photos of real people).
// One frame against five: every frame of a capture is also scored alone. The engine scores each face of a request
// on its own and a one-image capture's verdict is that face's (src/face/liveness.ts), so a frame's own result in the
// five-frame request is what /liveness answers for that frame alone; `one_frame_check` re-sends a few frames alone
// and reports the largest difference.
// "network alone": the anti-spoofing network's P(live) on the same frames (signals.model of the same answers); for
// five frames, the mean of its log-odds over the frames that have it.
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createFaceEngine } from '../src/face/index.js';
import type { LivenessResult } from '../src/face/types.js';
import { packageFile } from '../src/face/tf.js';
import type { DomainDeps } from '../src/domain/deps.js';
import type { InputImage } from '../src/domain/faces.js';
import { captureLiveness, livenessVerdict } from '../src/domain/search.js';

const { values: args } = parseArgs({
  options: {
    parts: { type: 'string', default: 'fit,report' },
    every: { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    'min-score': { type: 'string', default: '0.6' },
    out: { type: 'string' },
    sources: { type: 'string', default: 'pad-dev,video,liveness-crops,photos' },
    keep: { type: 'string' },
    'report-only': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FACES = process.env.FACEGATE_FACES ? path.resolve(process.env.FACEGATE_FACES) : path.resolve(repoRoot, '../shared/faces');
const parts = new Set(args.parts!.split(','));
const every = Math.max(1, Number(args.every));
const MIN_SCORE = Number(args['min-score']);
const log = (...a: unknown[]) => console.error('[eval-liveness]', ...a);

type Part = 'fit' | 'report' | 'live-only';
interface Capture {
  source: 'pad-dev' | 'video' | 'liveness-crops' | 'photos';
  id: string;
  part: Part;
  live: boolean;
  meta: Record<string, string>;
  files: string[];
}
interface Frame { score: number; passed: boolean; reason?: string; modelLogit: number }
interface Measured extends Capture {
  error?: string;
  frames: Frame[];
  capture?: Frame;
}

// ---------- the captures ----------
function captures(): Capture[] {
  const out: Capture[] = [];
  const pad = path.join(FACES, 'pad-dev/replay-attack');
  const rows = readFileSync(path.join(pad, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const clients = [...new Set(rows.map((r) => r[5]))].sort();
  // labels.csv names every attack twice, once "hand" and once "fixed", with the same folder name: the folder holds
  // one video of the two and which one is not known, so each folder is one capture and its support is unknown.
  const supports = new Map<string, Set<string>>();
  for (const r of rows) supports.set(r[0], (supports.get(r[0]) ?? new Set()).add(r[3]));
  const seen = new Set<string>();
  for (const [video, label, attackType, , lighting, client, frames] of rows) {
    if (seen.has(video)) continue;
    seen.add(video);
    const support = [...supports.get(video)!].join('|');
    out.push({
      source: 'pad-dev',
      id: video,
      part: clients.indexOf(client) % 2 === 0 ? 'fit' : 'report',
      live: label === 'live',
      // labels.csv says "controlled" for every live video; the folder name says which light it was filmed in.
      meta: { attack_type: attackType, support, lighting: /_adverse/.test(video) ? 'adverse' : /_controlled/.test(video) ? 'controlled' : lighting, client },
      files: Array.from({ length: Number(frames) }, (_, i) => path.join(pad, video, `${i}.jpg`)),
    });
  }
  for (const folder of ['real-frames', 'fake-frames']) {
    const files = readdirSync(path.join(FACES, 'video', folder)).filter((f) => f.endsWith('.jpg')).sort().map((f) => path.join(FACES, 'video', folder, f));
    // Windows of 5 frames 8 apart; starts s, s+1, …, s+7 then the next block of 40: each frame in one window.
    for (let block = 0; block + 32 < files.length; block += 40) {
      for (let s = block; s < block + 8 && s + 32 < files.length; s++) {
        out.push({
          source: 'video', id: `${folder}@${s}`, part: s < files.length / 2 ? 'fit' : 'report', live: folder === 'real-frames', meta: { recording: folder },
          files: [0, 8, 16, 24, 32].map((k) => files[s + k]),
        });
      }
    }
  }
  const crops = readFileSync(path.join(FACES, 'liveness-crops/labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  for (const [file, label] of crops) {
    const i = Number(path.basename(file, '.png'));
    if (i % 8 !== 0) continue;
    const fit = label === 'live' ? i <= 106 : i <= 228 || (i >= 457 && i <= 536);
    out.push({ source: 'liveness-crops', id: file, part: fit ? 'fit' : 'report', live: label === 'live', meta: {}, files: [path.join(FACES, 'liveness-crops', file)] });
  }
  const walk = (d: string): string[] => readdirSync(d).sort().flatMap((f) => (statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : /\.(jpe?g|png)$/i.test(f) ? [path.join(d, f)] : []));
  const demo = packageFile('@vladmandic/face-api', 'demo');
  const photos = [...walk(path.join(FACES, 'highres')), ...walk(path.join(FACES, 'tv-crops')), ...readdirSync(demo).filter((f) => /^sample\d\.jpg$/.test(f)).map((f) => path.join(demo, f))];
  for (const f of photos) out.push({ source: 'photos', id: path.relative(FACES, f).startsWith('..') ? path.basename(f) : path.relative(FACES, f), part: 'live-only', live: true, meta: { set: f.includes('tv-crops') ? 'tv-crops' : f.includes('highres') ? 'highres' : 'face-api-demo' }, files: [f] });
  return out;
}

// ---------- metrics ----------
function auc(live: number[], attack: number[]): number | null {
  if (!live.length || !attack.length) return null;
  let s = 0;
  for (const a of live) for (const b of attack) s += a > b ? 1 : a === b ? 0.5 : 0;
  return r4(s / (live.length * attack.length));
}
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const frac = (xs: boolean[]) => (xs.length ? r4(xs.filter(Boolean).length / xs.length) : null);
const logit = (p: number) => Math.log(p / (1 - p));

/** APCER: attacks that pass; BPCER: live captures that do not (a capture the API refused for no face counts as not passed). */
function rates(live: Frame[], attack: Frame[], netLive: number[], netAttack: number[]) {
  return {
    n: { live: live.length, attack: attack.length },
    auc: auc(live.map((f) => f.score), attack.map((f) => f.score)),
    network_alone_auc: auc(netLive, netAttack),
    apcer: frac(attack.map((f) => f.passed)),
    bpcer: frac(live.map((f) => !f.passed)),
    no_evidence: { live: live.filter((f) => f.reason).length, attack: attack.filter((f) => f.reason).length },
  };
}

const netOfFrames = (fs: Frame[]) => {
  const z = fs.map((f) => f.modelLogit).filter(Number.isFinite);
  return z.length ? z.reduce((a, b) => a + b, 0) / z.length : -Infinity;
};

function report(ms: Measured[], mode: 'one' | 'five') {
  const units = (xs: Measured[]) => (mode === 'one' ? xs.flatMap((m) => m.frames.map((f) => ({ m, f, net: Number.isFinite(f.modelLogit) ? f.modelLogit : -Infinity }))) : xs.filter((m) => m.capture).map((m) => ({ m, f: m.capture!, net: netOfFrames(m.frames) })));
  return (xs: Measured[]) => {
    const u = units(xs);
    const l = u.filter((x) => x.m.live), a = u.filter((x) => !x.m.live);
    return rates(l.map((x) => x.f), a.map((x) => x.f), l.map((x) => x.net), a.map((x) => x.net));
  };
}

function breakdown(ms: Measured[], mode: 'one' | 'five') {
  const r = report(ms, mode);
  const out: Record<string, unknown> = {};
  for (const source of ['pad-dev', 'video', 'liveness-crops']) {
    for (const part of ['fit', 'report']) {
      const sel = ms.filter((m) => m.source === source && m.part === part);
      if (!sel.some((m) => m.live) && !sel.some((m) => !m.live)) continue;
      out[`${source} ${part}`] = r(sel);
      if (source !== 'pad-dev') continue;
      const live = sel.filter((m) => m.live);
      const kinds: Record<string, (m: Measured) => boolean> = {
        'print (paper photo)': (m) => m.meta.attack_type === 'print-print-photo',
        'phone, photo': (m) => m.meta.attack_type === 'replay-mobile-photo',
        'phone, video': (m) => m.meta.attack_type === 'replay-mobile-video',
        'tablet, photo': (m) => m.meta.attack_type === 'replay-highdef-photo',
        'tablet, video': (m) => m.meta.attack_type === 'replay-highdef-video',
        // hand-held vs fixed: not separable in pad-dev (see captures()); every attack folder is labelled both.
        'support labelled both hand and fixed': (m) => m.meta.support === 'fixed|hand' || m.meta.support === 'hand|fixed',
      };
      for (const [k, f] of Object.entries(kinds)) out[`${source} ${part} · ${k}`] = r([...live, ...sel.filter((m) => !m.live && f(m))]);
      for (const light of ['controlled', 'adverse']) out[`${source} ${part} · ${light} light`] = r(sel.filter((m) => m.meta.lighting === light));
    }
  }
  const photos = ms.filter((m) => m.source === 'photos');
  for (const set of ['highres', 'tv-crops', 'face-api-demo']) {
    const sel = photos.filter((m) => m.meta.set === set);
    if (sel.length) out[`photos · ${set} (live only)`] = r(sel);
  }
  return out;
}

// ---------- main ----------
async function main() {
  if (!existsSync(path.join(FACES, 'pad-dev/replay-attack/labels.csv'))) {
    console.error(`no labelled faces at ${FACES} (set FACEGATE_FACES or place ../shared/faces)`);
    process.exit(2);
  }
  const sources = new Set(args.sources!.split(','));
  const all = captures().filter((c) => sources.has(c.source) && (c.part === 'live-only' || parts.has(c.part)));
  let selected = all.filter((_, i) => i % every === 0);
  const key = (c: Capture) => `${c.source}:${c.id}`;
  const kept = new Map<string, Measured>();
  if (args.keep && existsSync(args.keep)) {
    for (const line of readFileSync(args.keep, 'utf8').split('\n')) if (line.trim()) { const m = JSON.parse(line) as Measured; kept.set(key(m), m); }
  }
  // --report-only: the figures of what --keep already holds (a run stopped before the end), nothing measured.
  if (args['report-only']) selected = selected.filter((c) => kept.has(key(c)));
  // In a fixed mixed order, so that a run stopped half-way has measured some of every kind.
  const mix = (s: string) => { let h = 2166136261; for (const ch of s) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0; return h; };
  const todo = selected.filter((c) => !kept.has(key(c))).sort((a, b) => mix(key(a)) - mix(key(b)));
  log(`${selected.length} captures selected, ${selected.length - todo.length} already measured in ${args.keep ?? '(no --keep file)'}`);
  const engine = args['report-only'] ? null : createFaceEngine({ workers: Number(args.workers), queueLimit: 1000 });
  await engine?.ready();
  // The use case needs only the engine: no collection is named, nothing is stored or searched.
  const deps = { engine, settings: { personVerificationTtlMs: 0, livenessMinScore: MIN_SCORE } } as unknown as DomainDeps;
  const frameOf = (r: LivenessResult | undefined): Frame => {
    if (!r) return { score: 0, passed: false, reason: 'no_face', modelLogit: NaN };
    const v = livenessVerdict(r, MIN_SCORE);
    const p = r.signals.model;
    return { score: v.score, passed: v.passed, reason: v.reason, modelLogit: r.reason === 'no_context' || r.reason === 'face_too_small' || p === undefined ? NaN : logit(p) };
  };
  // Kept results with today's labels and parts (what a capture is, is decided here, not in the file).
  const measured: Measured[] = selected.flatMap((c) => (kept.has(key(c)) ? [{ ...kept.get(key(c))!, meta: c.meta, part: c.part, files: c.files }] : []));
  const t0 = performance.now();
  let done = 0;
  const run = async (c: Capture): Promise<Measured> => {
    const images: InputImage[] = c.files.map((f, i) => ({ field: `images[${i}]`, bytes: new Uint8Array(readFileSync(f)) }));
    try {
      const { result, liveness } = await captureLiveness(deps, images, { tenant: 'eval' });
      return { ...c, frames: result.images.map((img) => frameOf(img.faces[0]?.liveness)), capture: frameOf(liveness) };
    } catch (err) {
      // The API answers 422 (no face in one of the images): nothing passes.
      const code = (err as { problem?: string }).problem ?? (err as Error).message;
      const frames: Frame[] = [];
      for (const img of images) {
        try {
          const r = await captureLiveness(deps, [img], { tenant: 'eval' });
          frames.push(frameOf(r.liveness));
        } catch {
          frames.push({ score: 0, passed: false, reason: 'no_face', modelLogit: NaN });
        }
      }
      return { ...c, error: String(code), frames, capture: { score: 0, passed: false, reason: 'no_face', modelLogit: NaN } };
    } finally {
      if (++done % 20 === 0) log(`${done}/${todo.length} captures, ${((performance.now() - t0) / done / 1000).toFixed(1)} s each`);
    }
  };
  // Keep every worker busy: as many captures in flight as workers, plus one.
  const queue = [...todo];
  await Promise.all(Array.from({ length: Number(args.workers) + 1 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const m = await run(c);
      measured.push(m);
      if (args.keep) appendFileSync(args.keep, JSON.stringify(m) + '\n');
    }
  }));

  // A frame sent alone gets the answer its face got inside the five-frame request.
  const check = args['report-only'] ? [] : measured.filter((m) => m.source === 'pad-dev' && m.frames.length === 5).slice(0, 6);
  let maxDiff = 0;
  for (const m of check) {
    const r = await captureLiveness(deps, [{ field: 'image', bytes: new Uint8Array(readFileSync(m.files[2])) }], { tenant: 'eval' }).catch(() => null);
    if (r) maxDiff = Math.max(maxDiff, Math.abs(livenessVerdict(r.liveness, MIN_SCORE).score - m.frames[2].score));
  }
  await engine?.close();

  const result = {
    note: 'APCER: attacks that pass (score > min_score and usable evidence); BPCER: live captures that do not. Scores of faces without usable evidence are 0. network_alone_auc: the anti-spoofing network P(live) (five frames: mean log-odds) on the same answers.',
    min_score: MIN_SCORE,
    parts: [...parts],
    every,
    captures: measured.length,
    failed_captures: Object.fromEntries(Object.entries(measured.filter((m) => m.error).reduce<Record<string, number>>((acc, m) => ({ ...acc, [`${m.source}: ${m.error}`]: (acc[`${m.source}: ${m.error}`] ?? 0) + 1 }), {}))),
    reasons: measured.flatMap((m) => m.frames).reduce<Record<string, number>>((acc, f) => (f.reason ? { ...acc, [f.reason]: (acc[f.reason] ?? 0) + 1 } : acc), {}),
    one_frame_check: { frames: check.length, max_score_difference: r4(maxDiff) },
    one_frame: breakdown(measured, 'one'),
    five_frames: breakdown(measured.filter((m) => m.frames.length === 5), 'five'),
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  const json = JSON.stringify(result, null, 2);
  if (args.out) writeFileSync(args.out, json);
  if (process.env.LIVENESS_EVAL_DUMP) writeFileSync(process.env.LIVENESS_EVAL_DUMP, JSON.stringify(measured.map(({ files: _f, ...m }) => m)));
  console.log(json);
}

await main();
