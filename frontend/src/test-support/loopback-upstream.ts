/**
 * A real HTTP server on 127.0.0.1 standing in for the service in unit tests: it records every
 * request it gets (headers, body, when the connection closed) and answers as the test says.
 */

import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  /** Resolves when the client side of this request's connection went away or the response ended. */
  readonly closed: Promise<void>;
}

export type UpstreamHandler = (request: RecordedRequest, response: ServerResponse, socket: Socket) => void | Promise<void>;

export interface LoopbackUpstream {
  readonly url: string;
  readonly requests: RecordedRequest[];
  handle(handler: UpstreamHandler): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<LoopbackUpstream> {
  const requests: RecordedRequest[] = [];
  let handler: UpstreamHandler = (_, response) => {
    response.writeHead(204).end();
  };
  const sockets = new Set<Socket>();
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((resolve) => response.once("close", () => resolve()));
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", () => {
      const recorded: RecordedRequest = {
        method: incoming.method ?? "",
        url: incoming.url ?? "",
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        closed,
      };
      requests.push(recorded);
      void handler(recorded, response, incoming.socket);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle(next) {
      handler = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
