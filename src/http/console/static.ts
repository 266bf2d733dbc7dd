// Serves the built console (dist/console, written by `npm run build`) at /console with a strict Content-Security-
// Policy: scripts and styles only from this origin, no inline code, images also from data:/blob: URLs (thumbnails
// arrive as base64 in API answers, photos are previewed from local files), nothing fetched from anywhere else.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The repository (or installed package) root: the first folder above this file holding facegate's package.json. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'facegate') return dir;
      } catch {
        // unreadable: keep looking up
      }
    }
    dir = path.dirname(dir);
  }
  throw new Error('facegate package.json not found above ' + fileURLToPath(import.meta.url));
}

/** Where `npm run build` puts the console; the same whether the server runs from src/ (tsx) or dist/src/. */
export function consoleDistDir(): string {
  return path.join(packageRoot(), 'dist', 'console');
}

function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONSOLE_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
}

export async function consoleStaticRoutes(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const dir = opts.dir ?? consoleDistDir();
  const indexFile = path.join(dir, 'index.html');

  app.get('/console', { schema: { hide: true } }, async (_req, reply) => {
    securityHeaders(reply);
    // Read per request (a few KB) so a rebuild while the server runs is picked up, and a missing build says so.
    if (!existsSync(indexFile)) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The console is not built. Run `npm run build` (npm start does it), then reload this page.\n');
    }
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(readFileSync(indexFile));
  });

  await app.register(fastifyStatic, {
    root: path.join(dir, 'assets'),
    prefix: '/console/assets/',
    decorateReply: false,
    preCompressed: true,
    index: false,
    // File names carry a content hash, so they never change: cache them for good.
    immutable: true,
    maxAge: '365d',
    setHeaders: (reply) => securityHeaders(reply),
  });
}
