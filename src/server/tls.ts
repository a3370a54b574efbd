import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";
import { StartupError } from "./startup-error.js";

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads the certificate and key and checks that they work together, so a wrong file is one
 * line at start rather than a handshake failure at the first client.
 */
export async function loadTlsCredentials({ certFile, keyFile }: TlsFiles): Promise<TlsCredentials> {
  const read = (file: string, what: string) =>
    readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new StartupError(`cannot read the TLS ${what} ${file} (${error.code ?? error.message})`);
    });
  const [cert, key] = await Promise.all([read(certFile, "certificate"), read(keyFile, "key")]);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new StartupError(`--tls-cert ${certFile} and --tls-key ${keyFile} cannot be used: ${tlsProblem(error)}`);
  }
  return { cert, key };
}

/** OpenSSL's reason in words a person can act on. */
function tlsProblem(error: unknown): string {
  const message = (error as Error).message ?? String(error);
  if (/key values mismatch/i.test(message)) return "the key does not belong to the certificate";
  if (/no start line|bad base64|wrong tag|not enough data|unsupported/i.test(message)) {
    return "each must be a PEM file (-----BEGIN ...)";
  }
  return message.split("\n")[0] ?? message;
}
