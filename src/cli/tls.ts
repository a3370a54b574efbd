import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { rootCertificates } from "node:tls";
import { CliError } from "./cli-error.js";

let trusted: string[] | undefined;

/** The authorities a request made with node:https must trust: undefined for node's own. */
export function trustedCertificates(): string[] | undefined {
  return trusted;
}

/**
 * Makes every request of this process trust the authority in `file` besides the usual ones,
 * for a server whose certificate a private CA signed: the API client and node:https both
 * take their authorities from trustedCertificates().
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
  trusted = [...rootCertificates, pem];
}
