/** A user-facing reason the server cannot start: printed as one line, no stack. */
export class StartupError extends Error {}
