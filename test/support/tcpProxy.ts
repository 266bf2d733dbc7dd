// A TCP proxy in front of a database, to cut it off from a store and bring it back without touching the server.
import net from 'node:net';

/** A TCP proxy to the database that can drop every connection and refuse new ones (down) and accept again (up). */
export async function tcpProxy(target: URL): Promise<{ port: number; down(): void; up(): void; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepting = true;
  const server = net.createServer((client) => {
    if (!accepting) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    down() {
      accepting = false;
      for (const s of sockets) s.destroy();
    },
    up() {
      accepting = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
