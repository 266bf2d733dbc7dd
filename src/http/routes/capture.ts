// The capture page (/capture): static files from public/capture, served by Facegate itself so that the page works
// offline and behind any firewall. Unauthenticated (it holds no data); the page calls the API with the token it is
// given. The Content-Security-Policy allows only this origin's own script, styles and API, and the camera.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

/** public/capture, found from this file under src/ (tsx) or dist/src/ (built). */
function assetDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'public', 'capture');
    try {
      readFileSync(path.join(candidate, 'index.html'));
      return candidate;
    } catch {
      dir = path.dirname(dir);
    }
  }
  throw new Error('public/capture/index.html not found next to the server');
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob: mediastream:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: Record<string, { file: string; type: string }> = {
  '/capture': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/capture/capture.js': { file: 'capture.js', type: 'text/javascript; charset=utf-8' },
  '/capture/capture.css': { file: 'capture.css', type: 'text/css; charset=utf-8' },
};

export const captureRoutes: FastifyPluginAsync = async (app) => {
  const dir = assetDir();
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(path.join(dir, file));
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type(type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('permissions-policy', 'camera=(self), microphone=()')
        .header('cache-control', 'no-cache')
        .send(body),
    );
  }
};
