/**
 * The only code that touches the OS keychain, run as a child process of sdci-cli (see
 * keychain.ts): a Secret Service call can block forever on a half-alive D-Bus, and a child
 * process is the one thing that can always be abandoned. It reads one request as JSON on
 * stdin (so a token never appears in a process list) and writes one reply as JSON on stdout.
 */
import { text } from "node:stream/consumers";

/** The keychain service name, the same as older SDCI clients used. */
const SERVICE = "SDCI_token";

export type KeychainRequest =
  | { op: "get"; accounts: string[] }
  | { op: "set"; accounts: string[]; token: string }
  | { op: "delete"; accounts: string[] };

export type KeychainReply = { token: string | null } | { stored: true } | { deleted: number } | { error: string };

async function handle(request: KeychainRequest): Promise<KeychainReply> {
  const { AsyncEntry } = await import("@napi-rs/keyring");
  // On Linux only the Secret Service: the library's fallback, the kernel keyring, forgets
  // everything at logout and would turn "no keychain here" into a silent, short-lived store.
  const entry = (account: string) => new AsyncEntry(SERVICE, account, { linux: { store: "secret-service" } });
  switch (request.op) {
    case "get":
      for (const account of request.accounts) {
        const token = await entry(account).getPassword();
        if (token !== null) return { token };
      }
      return { token: null };
    case "set":
      await entry(request.accounts[0] ?? "").setPassword(request.token);
      return { stored: true };
    case "delete": {
      let deleted = 0;
      for (const account of request.accounts) if (await entry(account).deletePassword()) deleted++;
      return { deleted };
    }
  }
}

let reply: KeychainReply;
try {
  reply = await handle(JSON.parse(await text(process.stdin)) as KeychainRequest);
} catch (error) {
  reply = { error: error instanceof Error ? error.message : String(error) };
}
// Exit as soon as the reply is out: the library's D-Bus connection would keep the process
// alive for a while longer, and the CLI waits for this process to end.
process.stdout.write(`${JSON.stringify(reply)}\n`, () => process.exit(0));
