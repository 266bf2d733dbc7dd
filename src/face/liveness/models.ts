// The trained anti-spoofing network as a liveness signal (src/face/antispoof.ts: faceplugin's fr_liveness.onnx).
// It judges the face with its surroundings; how much is a choice of the caller. Measured per frame on pad-dev's FIT
// clients and on the first half of the webcam/phone-replay recording (docs/liveness.md, "What the network gets"):
// faceplugin's own 2.7× ranks best on both (AUC 0.999 and 0.996); 1.0×, 2.0× and 4.0× rank worse on the recording
// (0.41, 0.85, 0.73), and the mean of 2.0×, 2.7× and 4.0× worse than 2.7× alone (0.965). One crop, then.
import { AntispoofNet } from '../antispoof.js';
import type { Box } from '../types.js';
import type { RgbImage } from './sample.js';

/** Widenings of the face box the network sees (each clipped to the image, as faceplugin's code clips it). */
export const NETWORK_WIDENINGS = [2.7] as const;

/** Log-odds beyond which the network's answer adds nothing (it saturates; the score's scale stays finite). */
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
