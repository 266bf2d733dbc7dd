// The capture page (/capture) and the <facegate-liveness> component it wraps: static files from public/capture,
// served by Facegate itself so that they work offline and behind any firewall. Unauthenticated (they hold no data);
// the component calls the API with the one-session capture credential it is given. The page's
// Content-Security-Policy allows only this origin's own script, styles and API, and the camera. The component's
// module is also loaded by relying parties' pages on other origins: it is served with CORS (a module script needs it).
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

const FILES: Record<string, { file: string; type: string; crossOrigin?: boolean }> = {
  '/capture': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/capture/capture.js': { file: 'capture.js', type: 'text/javascript; charset=utf-8' },
  '/capture/capture.css': { file: 'capture.css', type: 'text/css; charset=utf-8' },
  '/capture/facegate-liveness.js': { file: 'facegate-liveness.js', type: 'text/javascript; charset=utf-8', crossOrigin: true },
};

export const captureRoutes: FastifyPluginAsync = async (app) => {
  const dir = assetDir();
  for (const [url, { file, type, crossOrigin }] of Object.entries(FILES)) {
    const body = readFileSync(path.join(dir, file));
    app.get(url, { schema: { hide: true } }, async (_req, reply) => {
      if (crossOrigin) reply.header('access-control-allow-origin', '*').header('cross-origin-resource-policy', 'cross-origin');
      return reply
        .type(type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('permissions-policy', 'camera=(self), microphone=()')
        .header('cache-control', 'no-cache')
        .send(body);
    });
  }
};
