// What the CLI's command modules (src/cli/*.ts) share with src/cli.ts: its error classes, its I/O and the
// store it opens.
import type { Store } from '../domain/ports.js';

/** Bad usage: the message and the usage text are printed; exit status 2. */
export class UsageError extends Error {}
/** The command could not do its job: the message is printed; exit status 1. */
export class CliFailure extends Error {}

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  now?: () => Date;
  /** On a terminal: redraws one status line in place (a progress bar). Absent: progress goes to `err` as lines. */
  status?: (line: string) => void;
  /** Whether `out` is a terminal (a person reads it) rather than a pipe or a file (`TOKEN=$(…)` captures it). */
  outIsTerminal?: boolean;
}

/** What a command module gets from src/cli.ts. */
export interface CommandContext {
  io: CliIo;
  dataDir: string;
  databaseUrl: string | null;
  /** The database the command works on, for messages (password removed). */
  where: string;
  /** Opens the store the server uses (never creates a SQLite database); closed by src/cli.ts when the command ends. */
  openStore(): Promise<Store>;
}

/** `1m05s` */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const r = Math.max(0, Math.round(s));
  return r >= 60 ? `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s` : `${r}s`;
}
