// The documentation speaks to users: no references to internal tracker items ("issue 4"), which mean nothing
// outside the team. (README's commands and snippets are run by test/server.test.ts.)
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/harness.js';

describe('documentation', () => {
  it('cites no tracker items in README.md and docs/', () => {
    const files = ['README.md', ...readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const hits = files.flatMap((f) =>
      readFileSync(path.join(repoRoot, f), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\b(issue|ticket)s? #?\d+/i.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(hits).toEqual([]);
  });
});
