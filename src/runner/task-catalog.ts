import { open, readdir, realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";

/** A task name: what a URL path segment and a file name can both carry safely. */
export const TASK_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface TaskInfo {
  name: string;
  description: string;
}

export interface Task extends TaskInfo {
  /** Real path of the script, checked to lie inside the tasks folder. */
  path: string;
}

const HEAD_BYTES = 4096;

/** The tasks folder: every regular `<name>.sh` file whose real path stays inside it. */
export class TaskCatalog {
  constructor(readonly dir: string) {}

  async list(): Promise<TaskInfo[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch {
      return [];
    }
    const names = entries
      .filter((file) => file.endsWith(".sh"))
      .map((file) => file.slice(0, -3))
      .filter((name) => TASK_NAME_PATTERN.test(name))
      .sort();
    const tasks = await Promise.all(names.map((name) => this.resolve(name)));
    return tasks
      .filter((task): task is Task => task !== undefined)
      .map(({ name, description }) => ({ name, description }));
  }

  /** The task called `name`, or undefined when there is none (or it points outside the folder). */
  async resolve(name: string): Promise<Task | undefined> {
    if (!TASK_NAME_PATTERN.test(name)) return undefined;
    try {
      const root = await realpath(this.dir);
      const path = await realpath(join(root, `${name}.sh`));
      if (!path.startsWith(root + sep)) return undefined;
      if (!(await stat(path)).isFile()) return undefined;
      return { name, description: await readDescription(path), path };
    } catch {
      return undefined;
    }
  }
}

/** The script's first comment line after the shebang, as a person would write a summary. */
async function readDescription(path: string): Promise<string> {
  const file = await open(path, "r");
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    const lines = buffer.subarray(0, bytesRead).toString("utf8").split("\n");
    for (const [index, raw] of lines.entries()) {
      const line = raw.trim();
      if (index === 0 && line.startsWith("#!")) continue;
      if (line === "") continue;
      if (!line.startsWith("#")) break;
      const text = line.replace(/^#+/, "").trim();
      if (text !== "") return text;
    }
    return "";
  } finally {
    await file.close();
  }
}
