import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { SetupError } from "./setup-error.js";

const run = promisify(execFile);

/** A host account, as the service's `User=` and the owner of its folders. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** POSIX portable names plus what useradd commonly allows; no digits-only (that reads as a uid). */
const ACCOUNT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** Looks the account up through NSS (`getent`), so LDAP and other directory users count too. */
export async function lookupAccount(name: string): Promise<Account> {
  if (!ACCOUNT_NAME.test(name)) {
    throw new SetupError(`--user must be an account name (letters, digits, _ . -), got ${JSON.stringify(name)}`);
  }
  let stdout: string;
  try {
    ({ stdout } = await run("getent", ["passwd", name]));
  } catch (error) {
    const { code } = error as { code?: number | string };
    if (code === 2) throw new SetupError(`there is no user ${JSON.stringify(name)} on this host (see --user)`);
    throw new SetupError(`cannot look up the user ${JSON.stringify(name)} with getent (${code ?? (error as Error).message})`);
  }
  const [entryName, , uid, gid, , home] = stdout.trim().split("\n")[0]!.split(":");
  return { name: entryName!, uid: Number(uid), gid: Number(gid), home: home! };
}
