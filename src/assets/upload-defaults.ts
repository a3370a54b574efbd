/** The default of `--max-upload-size`: a large release archive fits, a runaway stream does not fill the disk. */
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3;
/** The default of `--max-upload-entries`: a large web build has tens of thousands of files. */
export const DEFAULT_MAX_UPLOAD_ENTRIES = 100_000;
/** The default of `--upload-idle-timeout`, in seconds: a stalled link must not hold the one lock for hours. */
export const DEFAULT_UPLOAD_IDLE_SECONDS = 60;
