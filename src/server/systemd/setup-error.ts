/** A reason setup or uninstall cannot go on, in words the person at the terminal can act on. */
export class SetupError extends Error {}
