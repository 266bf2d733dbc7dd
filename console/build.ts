// Builds the operator console into dist/console: one minified ES module and one stylesheet, named by content hash
// (served as immutable), pre-compressed with gzip and brotli, and index.html pointing at them. esbuild does the
// bundling (TypeScript + JSX for Preact); nothing is fetched from a CDN at build or run time.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

export interface ConsoleBuild {
  dir: string;
  js: string;
  css: string;
  /** Bytes of the script, raw and gzipped. */
  jsBytes: number;
  jsGzipBytes: number;
}

export async function buildConsole(outDir = path.join(root, 'dist', 'console')): Promise<ConsoleBuild> {
  const res = await build({
    entryPoints: [path.join(here, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'out',
    entryNames: 'app-[hash]',
    write: false,
    legalComments: 'none',
    tsconfig: path.join(here, 'tsconfig.json'),
    logLevel: 'warning',
  });
  const assets = path.join(outDir, 'assets');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });
  const names: Record<string, string> = {};
  for (const f of res.outputFiles) {
    const ext = path.extname(f.path);
    const hash = createHash('sha256').update(f.contents).digest('base64url').slice(0, 10);
    const name = `app-${hash}${ext}`;
    names[ext] = name;
    await writeFile(path.join(assets, name), f.contents);
    await writeFile(path.join(assets, name + '.gz'), gzipSync(f.contents, { level: 9 }));
    await writeFile(path.join(assets, name + '.br'), brotliCompressSync(f.contents, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
  if (!names['.js'] || !names['.css']) throw new Error('console build produced no script or no stylesheet');
  const html = (await readFile(path.join(here, 'index.html'), 'utf8')).replace('%JS%', names['.js']).replace('%CSS%', names['.css']);
  await writeFile(path.join(outDir, 'index.html'), html);
  const js = await readFile(path.join(assets, names['.js']));
  return { dir: outDir, js: names['.js'], css: names['.css'], jsBytes: js.length, jsGzipBytes: gzipSync(js, { level: 9 }).length };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const b = await buildConsole();
  console.log(`console built in ${path.relative(root, b.dir)}: ${b.js} ${(b.jsGzipBytes / 1024).toFixed(1)} KB gzipped, ${b.css}`);
}
