/**
 * Inline style that a strict content security policy allows: `<span ${styleProperties({ width: '40%' })}>`
 * sets each property through the element's CSSOM (style.setProperty). A `style="…"` attribute, and Lit's
 * styleMap (which writes the attribute on its first render), are refused under `style-src 'self'`, and
 * every bar would then draw full width. ESLint (eslint.config.js) refuses both in templates.
 */
import { noChange } from 'lit';
import { Directive, directive, type ElementPart, type PartInfo, PartType } from 'lit/directive.js';

/** Properties by their CSS names (`width`, `grid-template-columns`, `--dims`); null or undefined leaves one unset. */
export type StyleProperties = Readonly<Record<string, string | number | null | undefined>>;

class StylePropertiesDirective extends Directive {
  /** The properties this directive set last time, so that one no longer given is removed. */
  private set = new Set<string>();

  constructor(part: PartInfo) {
    super(part);
    if (part.type !== PartType.ELEMENT) throw new Error('styleProperties() goes on an element: <span ${styleProperties({…})}>');
  }

  render(_properties: StyleProperties) {
    return noChange;
  }

  override update(part: ElementPart, [properties]: [StyleProperties]) {
    const { style } = part.element as HTMLElement;
    const now = new Set<string>();
    for (const [name, value] of Object.entries(properties)) {
      if (value === null || value === undefined) continue;
      style.setProperty(name, String(value));
      now.add(name);
    }
    for (const name of this.set) if (!now.has(name)) style.removeProperty(name);
    this.set = now;
    return noChange;
  }
}

export const styleProperties = directive(StylePropertiesDirective);
