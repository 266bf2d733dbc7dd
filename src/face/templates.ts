// Reference face shapes that define the crops fed to the networks.
import type { Point } from './types.js';

/**
 * Mean position of the 68 landmarks inside the 112×112 crop face-api's landmark network sees (its SSD box padded to
 * a square), in crop units [0, 1]. Measured by running face-api's own pipeline (SSD → landmarks) over the 91 faces
 * of ../shared/faces highres/, groups/ and scenes/: placing our crops so a face lands where this template says is
 * placing it where the network expects it.
 */
export const LANDMARK_CROP_TEMPLATE: Point[] = [
  [0.1147, 0.3905], [0.1224, 0.491], [0.1388, 0.5868], [0.1591, 0.6687], [0.1905, 0.7611], [0.2427, 0.8314],
  [0.3047, 0.8838], [0.384, 0.9394], [0.4984, 0.9692], [0.6096, 0.9384], [0.6787, 0.8879], [0.7347, 0.8404],
  [0.7838, 0.7638], [0.8218, 0.6739], [0.8405, 0.5877], [0.8588, 0.498], [0.8624, 0.4002], [0.2031, 0.3094],
  [0.2511, 0.2791], [0.3079, 0.2717], [0.3612, 0.2783], [0.4093, 0.296], [0.5928, 0.2976], [0.6384, 0.2817],
  [0.6905, 0.2736], [0.7484, 0.2812], [0.7888, 0.3099], [0.5001, 0.4066], [0.5016, 0.4753], [0.502, 0.538],
  [0.4982, 0.5958], [0.4377, 0.6268], [0.4651, 0.6392], [0.4994, 0.6473], [0.535, 0.6367], [0.5621, 0.63],
  [0.2775, 0.3866], [0.3116, 0.3755], [0.359, 0.375], [0.4005, 0.3982], [0.3653, 0.4136], [0.3141, 0.4091],
  [0.5942, 0.3993], [0.6379, 0.3744], [0.6866, 0.3758], [0.7164, 0.3926], [0.6838, 0.414], [0.635, 0.4101],
  [0.358, 0.7383], [0.4085, 0.7192], [0.4692, 0.7078], [0.5004, 0.713], [0.5303, 0.7059], [0.5937, 0.7243],
  [0.6423, 0.7422], [0.5895, 0.7862], [0.5457, 0.8109], [0.4973, 0.8176], [0.4547, 0.8111], [0.4068, 0.7902],
  [0.3656, 0.7404], [0.4541, 0.7359], [0.4991, 0.7381], [0.5421, 0.7388], [0.6298, 0.742], [0.5421, 0.7677],
  [0.4997, 0.7731], [0.4577, 0.7686],
];

/** Centroid of a subset of 68-point landmarks. */
export function centroid(points: Point[], from: number, to: number): Point {
  let x = 0, y = 0;
  for (let i = from; i <= to; i++) {
    x += points[i][0];
    y += points[i][1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

/**
 * The four points BlazeFace reports that the 68-point scheme also has: the two eye centres (image left, image
 * right), the nose tip and the mouth centre.
 */
export function blazeFacePoints(landmarks68: Point[]): Point[] {
  return [centroid(landmarks68, 36, 41), centroid(landmarks68, 42, 47), landmarks68[30], centroid(landmarks68, 48, 67)];
}
