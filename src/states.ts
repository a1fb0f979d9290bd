/** Lit declarations for an element's internal reactive state: `static properties = { client: …, ...states('busy', 'error') }`. */
export const states = <const Name extends string>(...names: Name[]): Record<Name, { state: true }> =>
  Object.fromEntries(names.map((name) => [name, { state: true }])) as Record<Name, { state: true }>;
