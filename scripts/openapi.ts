// `npm run openapi`: writes the server's OpenAPI document (what GET /openapi.json answers on a server with the
// default settings) to clients/openapi.json, and regenerates the JavaScript client's types from it
// (clients/js/src/schema.d.ts, by openapi-typescript). test/clients/drift.test.ts fails when either is out of date,
// so a route or field changed on the server reaches the clients in the same commit.
//   npm run openapi            write both files
//   npm run openapi -- --check exit 1 (saying which) when a committed file differs from what the server makes
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentOpenApi, generatedTypes } from './openapiDocument.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const files = { spec: path.join(root, 'clients/openapi.json'), types: path.join(root, 'clients/js/src/schema.d.ts') };

const spec = await currentOpenApi();
const want = { spec: JSON.stringify(spec, null, 2) + '\n', types: await generatedTypes(spec) };
if (process.argv.includes('--check')) {
  let stale = 0;
  for (const k of ['spec', 'types'] as const) {
    const have = await readFile(files[k], 'utf8').catch(() => '');
    if (have !== want[k]) {
      stale++;
      console.error(`${path.relative(root, files[k])} is out of date: run npm run openapi`);
    }
  }
  process.exit(stale ? 1 : 0);
}
for (const k of ['spec', 'types'] as const) await writeFile(files[k], want[k]);
console.log(`wrote ${path.relative(root, files.spec)} and ${path.relative(root, files.types)}`);
