/**
 * A box drawn over one element of the playground, wherever it is: in the playground's shadow root or deep inside a
 * panel's. The element is named by a path of selectors (one per shadow root, see TourState.highlight) and left
 * untouched: the box is an element of the playground's own, placed over the target's rectangle, and it follows
 * scrolling, resizing and the target's own size. A target not drawn yet (a panel still asking the worker) is looked
 * for again until it is there.
 */
import { css, html, type ReactiveController, type ReactiveElement } from 'lit';

/** How often a target not drawn yet is looked for. */
const LOOK_AGAIN_MS = 100;
/** The box's margin around the target, px. */
const MARGIN = 4;
/**
 * For this long after the target is found, it is scrolled back into view when the page's layout moves it out (a
 * panel filling in above it as its answers come).
 */
const SETTLE_MS = 2000;

/** The element a path names: the first selector in `root`, each next one in the shadow root of the one before. */
export function findThrough(root: ParentNode, path: readonly string[]): HTMLElement | null {
  let element: Element | null = null;
  let scope: ParentNode | null | undefined = root;
  for (const selector of path) {
    element = scope?.querySelector(selector) ?? null;
    scope = element?.shadowRoot;
  }
  return element instanceof HTMLElement ? element : null;
}

const drawn = (element: Element): boolean => {
  const { width, height } = element.getBoundingClientRect();
  return element.isConnected && (width > 0 || height > 0);
};

export class HighlightOverlay implements ReactiveController {
  private path: readonly string[] | null = null;
  private target: HTMLElement | null = null;
  private lookTimer: ReturnType<typeof setTimeout> | undefined;
  private frame = 0;
  /** Until when the target is kept in view (performance.now()). */
  private settleUntil = 0;
  private readonly resizes = new ResizeObserver(() => this.schedule());
  private readonly onMove = () => this.schedule();

  constructor(private readonly host: ReactiveElement) {
    host.addController(this);
  }

  /** The element highlighted now, once found and drawn. */
  get element(): HTMLElement | null {
    return this.target;
  }

  /** Highlights the element `path` names (see findThrough), scrolled into view once it is there. */
  show(path: readonly string[]): void {
    this.hide();
    this.path = path;
    this.look();
  }

  hide(): void {
    this.path = null;
    this.release();
    this.box()?.toggleAttribute('hidden', true);
  }

  hostConnected(): void {
    // Capture: a scroll inside a panel (an overflowing heatmap) moves the target too.
    document.addEventListener('scroll', this.onMove, { capture: true, passive: true });
    window.addEventListener('resize', this.onMove, { passive: true });
    if (this.path) this.look();
  }

  hostDisconnected(): void {
    document.removeEventListener('scroll', this.onMove, { capture: true });
    window.removeEventListener('resize', this.onMove);
    this.release();
  }

  render() {
    return html`<div class="highlight" part="highlight" aria-hidden="true" hidden></div>`;
  }

  private release(): void {
    clearTimeout(this.lookTimer);
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.resizes.disconnect();
    this.target = null;
  }

  private box(): HTMLElement | null {
    return this.host.renderRoot.querySelector<HTMLElement>('.highlight');
  }

  /** Finds the target; when it is there and drawn, scrolls to it and places the box, else looks again shortly. */
  private look(): void {
    clearTimeout(this.lookTimer);
    if (!this.path || !this.host.isConnected) return;
    const target = findThrough(this.host.renderRoot, this.path);
    if (!target || !drawn(target)) {
      this.lookTimer = setTimeout(() => this.look(), LOOK_AGAIN_MS);
      return;
    }
    this.target = target;
    this.resizes.observe(target);
    this.resizes.observe(this.host);
    const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
    target.scrollIntoView({ block: 'center', behavior: still ? 'auto' : 'smooth' });
    this.settleUntil = performance.now() + SETTLE_MS;
    this.place();
  }

  private schedule(): void {
    if (!this.target || this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.place();
    });
  }

  /** Puts the box over the target (the host is its containing block); a target gone or hidden is looked for again. */
  private place(): void {
    const box = this.box();
    const target = this.target;
    if (!box || !target) return;
    if (!drawn(target)) {
      box.toggleAttribute('hidden', true);
      this.release();
      this.look();
      return;
    }
    const at = target.getBoundingClientRect();
    if (performance.now() < this.settleUntil && (at.bottom < 0 || at.top > innerHeight))
      target.scrollIntoView({ block: 'center' });
    const host = this.host.getBoundingClientRect();
    const px = (value: number) => `${value.toFixed(1)}px`;
    box.style.setProperty('--_top', px(at.top - host.top - this.host.clientTop - MARGIN));
    box.style.setProperty('--_left', px(at.left - host.left - this.host.clientLeft - MARGIN));
    box.style.setProperty('--_width', px(at.width + 2 * MARGIN));
    box.style.setProperty('--_height', px(at.height + 2 * MARGIN));
    box.toggleAttribute('hidden', false);
  }
}

export const highlightStyles = css`
  :host {
    position: relative;
  }
  .highlight {
    position: absolute;
    top: var(--_top, 0);
    left: var(--_left, 0);
    width: var(--_width, 0);
    height: var(--_height, 0);
    box-sizing: border-box;
    border: 3px solid var(--_accent);
    border-radius: var(--_radius);
    box-shadow: 0 0 0 4px color-mix(in srgb, var(--_accent) 25%, transparent);
    pointer-events: none;
    z-index: 5;
    transition:
      top 0.2s,
      left 0.2s,
      width 0.2s,
      height 0.2s;
  }
  .highlight[hidden] {
    display: none;
  }
  @media (prefers-reduced-motion: reduce) {
    .highlight {
      transition: none;
    }
  }
`;
