/**
 * Script URLs for pages that require Trusted Types (`require-trusted-types-for 'script'` in their content
 * security policy): there `new Worker(url)` and `serviceWorker.register(url)` refuse a plain string. The
 * playground's own policy, named in TRUSTED_TYPES_POLICY (the page's `trusted-types` directive must allow
 * it), vouches only for scripts of the page's own origin, which is where the playground loads its workers from.
 */
export const TRUSTED_TYPES_POLICY = 'llm-playground';

/** The part of the Trusted Types API used here (TypeScript's DOM types leave it out). */
interface ScriptUrlPolicy {
  /** Returns a TrustedScriptURL, which the sinks take where they refuse strings. */
  createScriptURL(url: string): unknown;
}
interface TrustedTypes {
  createPolicy(name: string, rules: { createScriptURL(url: string): string }): ScriptUrlPolicy;
}

/** Made once: a second policy of the same name is refused unless the page allows duplicates. Null: no Trusted Types here, or the page refuses the name. */
let policy: ScriptUrlPolicy | null | undefined;

function makePolicy(): ScriptUrlPolicy | null {
  const trustedTypes = (globalThis as { trustedTypes?: TrustedTypes }).trustedTypes;
  if (!trustedTypes) return null;
  try {
    return trustedTypes.createPolicy(TRUSTED_TYPES_POLICY, {
      createScriptURL: (url) => {
        if (new URL(url, location.href).origin !== location.origin) throw new Error(`${url} is not a script of this site`);
        return url;
      },
    });
  } catch {
    // The page's trusted-types directive leaves the name out: plain URLs then, which only such a page refuses.
    return null;
  }
}

/** `url` as `new Worker()` and `serviceWorker.register()` take it where Trusted Types are required; else as it is. */
export function trustedScriptURL(url: URL): string {
  policy ??= makePolicy();
  // A TrustedScriptURL is what those sinks take; TypeScript's DOM types name only strings and URLs.
  return policy ? (policy.createScriptURL(url.href) as string) : url.href;
}

/**
 * What to tell the user when a worker could not be made: a page that requires Trusted Types and leaves the
 * playground's policy out says so in a TypeError, for which this names the fix.
 */
export function workerStartProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/trusted ?(types|script ?url)/i.test(message)) {
    return `This page requires Trusted Types and does not allow the playground's policy: its content security policy needs "trusted-types ${TRUSTED_TYPES_POLICY} lit-html". (${message})`;
  }
  return message;
}
