// The clients cannot drift from the server: the committed OpenAPI document and the JavaScript client's generated
// types must be exactly what the server makes now (`npm run openapi` rewrites both), and the client must still
// type-check against them (a renamed route or field fails here, not in a user's build).
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentOpenApi, generatedTypes } from '../../scripts/openapiDocument.js';
import { repoRoot } from '../support/harness.js';

describe('clients/openapi.json and clients/js/src/schema.d.ts', () => {
  it('are what the server makes now (run `npm run openapi` after changing a route)', async () => {
    const spec = await currentOpenApi();
    const committedSpec = await readFile(path.join(repoRoot, 'clients/openapi.json'), 'utf8');
    expect(committedSpec, 'clients/openapi.json is stale: run npm run openapi').toBe(JSON.stringify(spec, null, 2) + '\n');
    const committedTypes = await readFile(path.join(repoRoot, 'clients/js/src/schema.d.ts'), 'utf8');
    expect(committedTypes === (await generatedTypes(spec)), 'clients/js/src/schema.d.ts is stale: run npm run openapi').toBe(true);
  });

  it('the JavaScript client type-checks against the generated types', () => {
    const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'clients/js/tsconfig.json', '--noEmit'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 180_000);
});
