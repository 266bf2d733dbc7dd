// Before the slow part of start-up (models, index): is the port ours to take? A port in use is an operator's
// mistake, said in a sentence at once, not as a JSON stack after the models have loaded.
import { createServer } from 'node:net';

export class PortUnavailableError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly reason: string,
  ) {
    super(
      reason === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use (another Facegate server, or another program). Stop it, or start this one on another port: PORT=${port + 1} npm start`
        : reason === 'EACCES'
          ? `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges). Use a port of 1024 or above: PORT=3000 npm start`
          : reason === 'EADDRNOTAVAIL'
            ? `cannot listen on ${host}: this machine has no such address. Use HOST=127.0.0.1 (this machine only) or HOST=0.0.0.0 (every interface)`
            : `cannot listen on ${host}:${port} (${reason})`,
    );
    this.name = 'PortUnavailableError';
  }
}

/** The listen error's code turned into a PortUnavailableError, or the error itself when it is something else. */
export function portError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' ? new PortUnavailableError(host, port, code) : err;
}

/** Resolves if host:port can be listened on right now (the test listener is closed again at once). */
export function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (err) => reject(portError(err, host, port)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
