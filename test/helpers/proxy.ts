import { once } from "node:events";
import { type Socket, createConnection, createServer } from "node:net";

/**
 * A TCP proxy in front of a server that a test can hold up or take down, to put a client in
 * the moments a real network puts it in: an answer that is late, a link that is gone.
 */
export interface ControlledProxy {
  url: string;
  /** Keeps what the server sends from reaching clients (requests still go through). */
  hold(): void;
  /** Lets held and further bytes through. */
  release(): void;
  /** Cuts every connection, and cuts each new one at once, until `up()`. */
  down(): void;
  up(): void;
  close(): void;
}

export async function controlledProxy(target: string): Promise<ControlledProxy> {
  const { port, hostname } = new URL(target);
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  let holding = false;
  let isDown = false;
  const proxy = createServer((client) => {
    if (isDown) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ port: Number(port), host: hostname });
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (holding) held.push(() => client.write(chunk));
      else client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("end", () => (holding ? held.push(end) : end())).on("close", () => (holding ? held.push(end) : end()));
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  const address = proxy.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const send of held.splice(0)) send();
    },
    down: () => {
      isDown = true;
      for (const socket of sockets) socket.destroy();
    },
    up: () => (isDown = false),
    close: () => {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    },
  };
}
