// A clean `npm ci` on the Node versions package.json declares prints no warnings: every locked package accepts
// them (no EBADENGINE), and every install script has a verdict in `allowScripts` (npm warns about the others).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/harness.js';

// semver as sharp (a direct dependency) installs it.
const require = createRequire(import.meta.url);
const semver = createRequire(require.resolve('sharp'))('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  hasInstallScript?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string }; allowScripts: Record<string, boolean> };
const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const installed = Object.entries(lock.packages).filter(([p]) => p.startsWith('node_modules/'));
const nameOf = (p: string) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('clean install', () => {
  it('every locked package accepts the oldest Node that package.json declares, and this one', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const refused = installed.flatMap(([p, e]) => {
      const range = !Array.isArray(e.engines) ? e.engines?.node : undefined;
      if (!range) return [];
      return [oldest, process.versions.node].filter((v) => !semver.satisfies(v, range)).map((v) => `${nameOf(p)}@${e.version} wants node ${range}, not ${v}`);
    });
    expect(refused).toEqual([]);
  });

  it('every package with an install script has a verdict in allowScripts', () => {
    const unreviewed = installed.filter(([, e]) => e.hasInstallScript).map(([p]) => nameOf(p)).filter((n) => !(n in pkg.allowScripts));
    expect(unreviewed).toEqual([]);
  });
});
