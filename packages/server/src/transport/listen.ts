// Binding as infinoted does (infinoted-startup.c): one IPv6 socket that also takes IPv4 clients,
// unless an address is given; hosts without IPv6 fall back to IPv4 only.
import type { Server } from 'node:net';

export async function listenDualStack(server: Server, port: number, host?: string): Promise<void> {
  const listen = (address: string): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: address, ipv6Only: false }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  if (host !== undefined) return listen(host);
  try {
    await listen('::');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw err;
    await listen('0.0.0.0');
  }
}
