// The change feed's wake-up across instances: a dedicated connection (not from the pool, which would hand it to
// requests) LISTENs on facegate_changes. When it is lost it reconnects with back-off, and calls onWake() once
// reconnected: notifications sent meanwhile are gone, but the consumer catches up by seq, so nothing is missed.
import pg from 'pg';
import { CHANGES_CHANNEL } from './connection.js';

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

export async function listenForChanges(connectionString: string, onWake: () => void): Promise<{ close(): Promise<void> }> {
  let closed = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | undefined;
  let backoff = MIN_BACKOFF_MS;

  const wake = (): void => {
    try {
      onWake();
    } catch {
      // the consumer's failure is its own
    }
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString, application_name: 'facegate-listener', connectionTimeoutMillis: 5000, keepAlive: true });
    c.on('notification', (n) => {
      if (n.channel === CHANGES_CHANNEL) wake();
    });
    const lost = (): void => {
      c.removeAllListeners('end');
      c.on('error', () => undefined);
      if (client === c) client = null;
      c.end().catch(() => undefined);
      schedule();
    };
    c.on('error', lost);
    c.on('end', lost);
    await c.connect();
    await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
  }

  function schedule(): void {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect().then(
        () => {
          backoff = MIN_BACKOFF_MS;
          if (!closed) wake(); // catch up on whatever was committed while disconnected
        },
        () => {
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          schedule();
        },
      );
    }, backoff);
    timer.unref?.();
  }

  try {
    await connect();
  } catch {
    // Unreachable now: keep trying in the background; the consumer's timer poll covers the meantime.
    schedule();
  }

  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = null;
      if (c) {
        c.removeAllListeners('end');
        c.removeAllListeners('error');
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
