// The trained anti-spoofing network as a liveness signal (src/face/antispoof.ts: faceplugin's fr_liveness.onnx).
// It replaced Human's two tfjs models (antispoof.json, liveness.json), which ranked attacks above live faces on our
// data and carried zero weight in the fusion: they no longer load or run.
import { AntispoofNet } from '../antispoof.js';
import type { Box } from '../types.js';
import type { RgbImage } from './sample.js';

let loading: Promise<AntispoofNet> | undefined;

export function loadModels(): Promise<AntispoofNet> {
  loading ??= AntispoofNet.load();
  loading.catch(() => { loading = undefined; });
  return loading;
}

/** P(live) from the anti-spoofing network for the face in `box` (it looks at the box widened 2.7×). */
export async function runModels(img: RgbImage, box: Box): Promise<{ model: number }> {
  const net = await loadModels();
  return { model: await net.predict(img, box) };
}
