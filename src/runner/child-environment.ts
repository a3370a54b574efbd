/** Variables that hold SDCI tokens: never handed to a task, whatever their value. */
const TOKEN_VARIABLES = ["SDCI_SERVER_TOKEN", "SDCI_TOKEN"];

export interface RunVariables {
  runId: string;
  task: string;
  uploadsDir: string;
}

/**
 * The environment a task starts with: the server's own, minus every variable that names or
 * carries one of the server's secrets, plus what tells the script which run it is.
 */
export function childEnvironment(
  serverEnv: NodeJS.ProcessEnv,
  secrets: readonly string[],
  run: RunVariables,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(serverEnv)) {
    if (value === undefined || TOKEN_VARIABLES.includes(name)) continue;
    if (secrets.some((secret) => secret !== "" && value.includes(secret))) continue;
    env[name] = value;
  }
  env.SDCI_RUN_ID = run.runId;
  env.SDCI_TASK = run.task;
  env.SDCI_UPLOADS_DIR = run.uploadsDir;
  // Python block-buffers a piped stdout; a deploy log should arrive as it is written.
  env.PYTHONUNBUFFERED = "1";
  return env;
}
