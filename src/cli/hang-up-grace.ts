import type { Socket } from "node:net";

/** Write errors that mean the other side closed the connection, not that this side failed. */
const HANG_UP_CODES = new Set(["EPIPE", "ECONNRESET"]);

type WriteCallback = (error?: Error | null) => void;

/**
 * Holds back, for `graceMs`, a write on `socket` that fails because the server hung up. Node
 * destroys a socket as soon as a write fails, and with it whatever the server sent that was
 * not read yet: typically the very answer (a 413) that says why the server stopped reading.
 * Held back, the failure lets the socket read that answer first; a read error, or the end of
 * the grace, then ends the connection as before.
 */
export function delayHangUpWriteErrors(socket: Socket, graceMs: number): void {
  const hold =
    (callback: WriteCallback): WriteCallback =>
    (error) => {
      if (!error || !HANG_UP_CODES.has((error as NodeJS.ErrnoException).code ?? "")) {
        callback(error);
        return;
      }
      setTimeout(() => callback(error), graceMs).unref();
    };
  // The two methods a Writable's implementation provides, and the only way node's writes reach the socket.
  const write = socket._write.bind(socket);
  socket._write = (chunk, encoding, callback) => write(chunk, encoding, hold(callback));
  const writev = socket._writev?.bind(socket);
  if (writev) socket._writev = (chunks, callback) => writev(chunks, hold(callback));
}
