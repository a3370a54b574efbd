import { type BaseContext, Cli, type Command } from "clipanion";

/**
 * Clipanion with every error it reports itself (a wrong argument, an unknown option, a value
 * its validator refuses, anything a command let escape) as one line on stderr, where
 * clipanion writes a paragraph with the usage, or a stack trace, to stdout: a script that
 * reads a command's stdout would take it for output.
 */
export class OneLineErrorCli<Context extends BaseContext = BaseContext> extends Cli<Context> {
  override error(error: Error, { command }: { colored?: boolean; command?: Command<Context> | null } = {}): string {
    const help = helpFor(this.binaryName, error, command);
    process.stderr.write(`${this.binaryName}: ${firstLine(error)}${help ? ` (see: ${help})` : ""}\n`);
    return "";
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

/** `<binary> <command> --help` when the command is known, else `<binary> --help`. */
function helpFor(binary: string, error: Error, command: Command | null | undefined): string | undefined {
  if (!("clipanion" in error)) return undefined;
  const path = command?.path?.filter((word) => word !== binary) ?? candidatePath(binary, error);
  return [binary, ...(path ?? []), "--help"].join(" ");
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
