// `npm run bench -- <name> [args…]` runs bench/<name>.ts, which prints its result as JSON on stdout.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- <${names.join('|')}> [args…]`);
  process.exit(2);
}
process.argv = [process.argv[0], path.join(dir, `${name}.ts`), ...args];
await import(pathToFileURL(path.join(dir, `${name}.ts`)).href);
