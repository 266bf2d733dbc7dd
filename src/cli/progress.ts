// Progress of a long CLI command: on a terminal a bar redrawn in place with the rate and the time left; otherwise
// (a log file, a CI job) a plain line every few seconds, so logs stay readable.
import { formatSeconds, type CliIo } from './shared.js';

export interface Progress {
  /** `done` of `total` units processed; `extra` is appended (e.g. counts by outcome). */
  update(done: number, extra?: string): void;
  /** The final line (always printed). */
  finish(extra?: string): void;
}

export function createProgress(io: CliIo, total: number, unit: string, opts: { everyMs?: number; now?: () => number } = {}): Progress {
  const now = opts.now ?? (() => Date.now());
  const t0 = now();
  let last = 0;
  let done = 0;
  const everyMs = io.status ? 200 : (opts.everyMs ?? 5000);
  const line = (extra?: string) => {
    const elapsed = (now() - t0) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const share = total ? done / total : 1;
    const bar = io.status ? `[${'#'.repeat(Math.round(share * 30)).padEnd(30, '.')}] ` : '';
    const eta = done > 0 && rate > 0 ? `${formatSeconds((total - done) / rate)} left` : 'estimating';
    return `${bar}${Math.round(share * 100)}% ${done}/${total} ${unit}, ${rate.toFixed(1)} ${unit}/s, ${done >= total ? `took ${formatSeconds(elapsed)}` : eta}${extra ? `, ${extra}` : ''}`;
  };
  return {
    update(d, extra) {
      done = d;
      // The last line is finish()'s.
      if (now() - last < everyMs || (d >= total && !io.status)) return;
      last = now();
      (io.status ?? io.err)(line(extra));
    },
    finish(extra) {
      if (io.status) io.status(line(extra));
      if (io.status) io.err('');
      else io.err(line(extra));
    },
  };
}
