// Debian's chromium with its fake webcam, for the browser tests of the capture page and the capture component.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { sharedFaces } from './harness.js';

export const CHROMIUM = '/usr/bin/chromium';
/** The live webcam capture and the phone replay, as Motion-JPEG (../shared/faces/video). */
export const VIDEO = path.join(sharedFaces, 'video');
/** Why the browser tests cannot run here ('' when they can). */
export const chromiumMissing = existsSync(CHROMIUM) ? '' : `${CHROMIUM} is missing (apt-get install -y chromium)`;
export const haveVideos = existsSync(path.join(VIDEO, 'real-camera.mjpeg')) && existsSync(path.join(VIDEO, 'replay-camera.mjpeg'));

/** Chromium whose camera plays `video` (a file of VIDEO), or (none) its built-in test pattern. */
export function launchWithFakeCamera(video?: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      ...(video ? [`--use-file-for-fake-video-capture=${path.join(VIDEO, video)}`] : []),
    ],
  });
}
