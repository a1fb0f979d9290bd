/** What went wrong, in the words of the error (or of whatever was thrown). */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
