/** package.json's engines.node. */
export function requiredNode(): string;
/** Why `version` (e.g. "20.18.1") cannot run the project, or null when it can. */
export function nodeProblem(version: string, required?: string): string | null;
