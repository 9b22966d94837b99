/**
 * A TCP relay on 127.0.0.1 in front of the web app whose open connections can be cut, as a
 * flaky mobile network would: the browser sees its stream fail mid-answer, and new
 * connections go through again.
 */

import { type Server, type Socket, connect, createServer } from "node:net";

export interface CuttableRelay {
  readonly url: string;
  /** Destroys every open connection (both directions). */
  cut(): void;
  close(): Promise<void>;
}

export async function startRelay(target: URL): Promise<CuttableRelay> {
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
  };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("relay has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      for (const socket of open) socket.destroy();
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
