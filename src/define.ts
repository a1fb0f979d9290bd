/**
 * Registers each custom element of the package, once. A page that loads two copies
 * of the package (two versions, or one bundled twice) would otherwise throw at the
 * second copy's customElements.define and break that copy's script: here the first
 * copy's elements are used, and the console says once which copy that is.
 */
const DEFINED_BY = Symbol.for('llm-playground.defined-by');
/** Where this copy was loaded from: how the console names it. */
const THIS_COPY = import.meta.url;
let told = false;

type Defined = CustomElementConstructor & { [DEFINED_BY]?: string };

export function define(name: string, element: CustomElementConstructor): void {
  const existing = customElements.get(name) as Defined | undefined;
  if (!existing) {
    Object.defineProperty(element, DEFINED_BY, { value: THIS_COPY });
    customElements.define(name, element);
    return;
  }
  if (existing === element || told) return;
  told = true;
  console.warn(
    `llm-playground: two copies of the package are on this page. The one loaded from ${existing[DEFINED_BY] ?? 'another script'} ` +
      `defined <${name}> first, and its elements are the ones used; this one, loaded from ${THIS_COPY}, is not.`,
  );
}
