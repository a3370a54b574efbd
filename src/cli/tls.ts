import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import { CliError } from "./cli-error.js";

/**
 * Makes every request of this process trust the authority in `file` besides the usual ones,
 * for a server whose certificate a private CA signed. undici is loaded only when asked for.
 */
export async function trustCaCertificate(file: string): Promise<void> {
  const pem = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read the CA certificate ${file} (${error.code ?? error.message})`);
  });
  try {
    new X509Certificate(pem);
  } catch {
    throw new CliError(`${file} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  const { Agent, setGlobalDispatcher } = await import("undici");
  setGlobalDispatcher(new Agent({ connect: { ca: [...rootCertificates, pem] } }));
}
