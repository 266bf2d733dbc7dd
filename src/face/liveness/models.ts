// The trained anti-spoofing network as a liveness signal (src/face/antispoof.ts: faceplugin's fr_liveness.onnx).
// It judges the face with its surroundings; how much surroundings is a choice of the caller (faceplugin's own code
// widens the face box 2.7×). The face boxes of this engine's detector are not faceplugin's, and the room a face
// has around it differs from camera to camera, so one widening is one arbitrary view: the signal is the network's
// log-odds averaged over three context scales (docs/liveness.md, "What the network gets").
import { AntispoofNet } from '../antispoof.js';
import type { Box } from '../types.js';
import type { RgbImage } from './sample.js';

/** Widenings of the face box the network sees (each clipped to the image, as faceplugin's code clips it). */
export const NETWORK_WIDENINGS = [2, 2.7, 4] as const;

/** Log-odds beyond which one crop's answer adds nothing (the network saturates; one crop must not outvote two). */
const MAX_LOGIT = 12;

let loading: Promise<AntispoofNet> | undefined;

export function loadModels(): Promise<AntispoofNet> {
  loading ??= AntispoofNet.load();
  loading.catch(() => { loading = undefined; });
  return loading;
}

/** The network's log(P(live) / P(attack)) for the face in `box`, averaged over NETWORK_WIDENINGS. */
export async function runNetwork(img: RgbImage, box: Box): Promise<number> {
  const net = await loadModels();
  let sum = 0;
  for (const widen of NETWORK_WIDENINGS) {
    const z = await net.liveLogit(img, box, widen);
    sum += Math.max(-MAX_LOGIT, Math.min(MAX_LOGIT, z));
  }
  return sum / NETWORK_WIDENINGS.length;
}
