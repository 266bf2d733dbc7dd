// Once per test run (vitest's globalSetup), not once per file: the notice that the PostgreSQL tests were skipped.
// Test files run in workers of their own, so they leave a mark in a file this process names (FACEGATE_PG_SKIPPED,
// inherited by the workers), and the notice is printed once at the end, next to the summary's skip count.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PG_HOW_TO_RUN } from './postgresEnv.js';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'facegate-vitest-'));
  const mark = path.join(dir, 'pg-skipped');
  process.env.FACEGATE_PG_SKIPPED = mark;
  return () => {
    if (existsSync(mark)) console.warn(`\n${PG_HOW_TO_RUN}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
