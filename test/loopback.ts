import * as net from 'node:net';

/**
 * Ports for real programs started by tests, taken from 26000-31999: below the kernel's ephemeral range
 * (32768 and up by default), so an outgoing connection of a parallel test can never take a port
 * between the check here and the program's bind, and clear of valkey-failover.test.ts's 21000-24999.
 * Each test process starts at its own pid-derived offset and never hands out a port twice.
 */
const FIRST_PORT = 26000;
const PORT_SPAN = 6000;
let nextPort = FIRST_PORT + ((process.pid * 97) % PORT_SPAN);

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = nextPort;
    nextPort = FIRST_PORT + ((nextPort - FIRST_PORT + 1) % PORT_SPAN);
    if (await canBind(port)) return port;
  }
  throw new Error('no free loopback port in 26000-31999');
}

/** Polls `condition` (sync or async) every 100 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
