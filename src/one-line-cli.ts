import { type BaseContext, Cli, type Command } from "clipanion";

/**
 * Clipanion with every error it reports itself (a wrong argument, an unknown option, a value
 * its validator refuses, anything a command let escape) as one line on stderr, where
 * clipanion writes a paragraph with the usage, or a stack trace, to stdout: a script that
 * reads a command's stdout would take it for output.
 */
export class OneLineErrorCli<Context extends BaseContext = BaseContext> extends Cli<Context> {
  override error(error: Error, { command }: { colored?: boolean; command?: Command<Context> | null } = {}): string {
    const path = command?.path?.filter((word) => word !== this.binaryName) ?? candidatePath(this.binaryName, error) ?? this.#typedPath();
    const help = "clipanion" in error ? [this.binaryName, ...(path ?? []), "--help"].join(" ") : undefined;
    process.stderr.write(`${this.binaryName}: ${firstLine(error)}${help ? ` (see: ${help})` : ""}\n`);
    return "";
  }

  /**
   * The longest registered command path the command line starts with: a value refused while
   * parsing (`runs --limit 0`) comes with no command to name.
   */
  #typedPath(): string[] | undefined {
    const typed = process.argv.slice(2);
    let best: string[] | undefined;
    for (const { path: usage } of this.definitions()) {
      const path = usage.split(" ").slice(1);
      if (path.length > 0 && path.every((word, index) => typed[index] === word) && path.length > (best?.length ?? 0)) best = path;
    }
    return best;
  }
}

/** The reason in a message, without the usage or candidate list clipanion puts after it. */
function firstLine(error: Error): string {
  const line = (error.message ?? String(error)).split("\n")[0]?.trim() ?? "";
  if (!line || line.endsWith(":") || line.startsWith("Command not found")) {
    const input = (error as { input?: string[] }).input?.filter((word) => !/^[\u0000\u0001]/.test(word)) ?? [];
    return `no command takes these arguments: ${JSON.stringify(input.join(" "))}`;
  }
  return line.replace(/[\u0000-\u001f\u007f]/g, (control) => JSON.stringify(control).slice(1, -1));
}

/** The command words of the one command clipanion thought was meant, from its usage line. */
function candidatePath(binary: string, error: Error): string[] | undefined {
  const candidates = (error as { candidates?: Array<{ usage: string }> }).candidates ?? [];
  if (candidates.length !== 1) return undefined;
  const words = candidates[0]!.usage.split(" ");
  if (words[0] !== binary) return undefined;
  const path: string[] = [];
  for (const word of words.slice(1)) {
    if (!/^[a-z][a-z-]*$/.test(word)) break;
    path.push(word);
  }
  return path;
}
