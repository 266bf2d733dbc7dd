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

// dlib's mean face (dlib/image_transforms/interpolation.h, get_face_chip_details), points 17…67 in [0, 1].
const DLIB_MEAN_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127,
  0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825,
  0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985,
  0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379,
  0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689,
];
const DLIB_MEAN_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454,
  0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758,
  0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233,
  0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805,
  0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];

/**
 * Landmark indices and chip positions (pixels of a `size` chip with dlib's `padding`) that define dlib's face chip:
 * the points dlib aligns on (17…67 without eyebrows and lower lip) mapped onto its mean face. The descriptor network
 * was trained on chips made exactly this way (size 150, padding 0.25).
 */
export function dlibChipPoints(size = 150, padding = 0.25): { index: number[]; chip: Point[] } {
  const index: number[] = [];
  const chip: Point[] = [];
  for (let i = 17; i < 68; i++) {
    if ((i >= 55 && i <= 59) || (i >= 65 && i <= 67) || i <= 26) continue;
    index.push(i);
    chip.push([
      ((padding + DLIB_MEAN_X[i - 17]) / (2 * padding + 1)) * size,
      ((padding + DLIB_MEAN_Y[i - 17]) / (2 * padding + 1)) * size,
    ]);
  }
  return { index, chip };
}
