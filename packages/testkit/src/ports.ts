// Free loopback ports, and a TCP probe.

import { createConnection, createServer, type Server } from "node:net";

/**
 * Ports handed out for servers that bind later are picked below Linux's ephemeral range
 * (32768–60999): a port the kernel chose from that range can be taken meanwhile as the source
 * port of any outgoing connection on the machine, which made start-ups fail now and then.
 */
const PICK_FROM = 20_000;
const PICK_TO = 32_767;

function listenOn(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

async function listenOnFreePort(host: string): Promise<Server> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * (PICK_TO - PICK_FROM + 1));
    try {
      return await listenOn(port, host);
    } catch {
      // in use: try another
    }
  }
  return listenOn(0, host);
}

function close(server: Server): Promise<number> {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return new Promise((resolve) => server.close(() => resolve(port)));
}

/** A port that was free a moment ago: listen on host:0, note the port, close. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return close(await listenOnFreePort(host));
}

/** `count` distinct free ports (all held open together while they are picked). */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnFreePort(host));
  } catch (error) {
    await Promise.all(servers.map(close));
    throw error;
  }
  return Promise.all(servers.map(close));
}

/** True when a TCP connection to host:port succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
