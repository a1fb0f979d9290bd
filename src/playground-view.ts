/**
 * What <llm-playground> shows, as one state that a tour step, a link and a click on the pipeline strip all set the
 * same way: the prompt, the temperature, the model, the open section with its tab, sub-tab and focus, and the element
 * highlighted. With the playground's `url-state` attribute, the state is read from the URL's hash when it connects
 * and written back (history.replaceState) as the user changes things; without it the URL is never read or written.
 */
import type { ReactiveController, ReactiveElement } from 'lit';
import { HighlightOverlay } from './tour/highlight.ts';
import { TOUR_STEPS } from './tour/steps.ts';
import { type LinkState, readLinkState, writeLinkState } from './url-state.ts';
import type { PanelFocus, PanelTarget, SectionFlag } from './view-state.ts';
import { SECTIONS } from './playground-sections.ts';

/** Sections whose panel's whole state is one tab: the panel's element, and its property that holds the tab. */
const TABBED_SECTIONS = [
  { section: 'labs', element: 'llm-labs-panel', property: 'lab' },
  { section: 'tune', element: 'llm-tuning-panel', property: 'tab' },
] as const;

/** What the playground lets the view read and set. */
export interface ViewHost extends ReactiveElement, Record<SectionFlag, boolean> {
  prompt: string;
  urlState: boolean;
  status: string;
  /** Sets the model the link names (a pretrained id such as 'gpt2'), before the worker starts. */
  model: string;
}

/** The parts of the playground's state that are not its properties. */
export interface ViewAccess {
  temperature(): number;
  setTemperature(temperature: number): void;
  /** The pretrained model in use (its id), or null for any other. */
  pretrained(): string | null;
  /** Opens the shipped model unless it is in use already. */
  useBuiltIn(): void;
}

/** The temperature the link leaves out (the sampling controls' default). */
const PLAIN_TEMPERATURE = 1;
/** A link is rewritten at most this often: typing and streamed tokens change the prompt many times a second. */
const WRITE_EVERY_MS = 250;

export class PlaygroundView implements ReactiveController {
  /** The section the user (or a step, or a link) opened last, its tab, and what it focuses on. */
  private shown: { panel: PanelTarget; focus?: PanelFocus } | null = null;
  private writeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly highlight: HighlightOverlay;

  constructor(
    private readonly host: ViewHost,
    private readonly access: ViewAccess,
  ) {
    host.addController(this);
    this.highlight = new HighlightOverlay(host);
  }

  private get current(): { panel: PanelTarget; focus?: PanelFocus } | null {
    return this.shown;
  }

  /** The pipeline strip marks the open panel's stage: the host draws again when it changes. */
  private set current(current: { panel: PanelTarget; focus?: PanelFocus } | null) {
    this.shown = current;
    this.host.requestUpdate();
  }

  /** The panel opened last, while it is open. */
  get openPanel(): PanelTarget | null {
    return this.shown?.panel ?? null;
  }

  hostDisconnected(): void {
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
  }

  hostUpdated(): void {
    this.scheduleWrite();
  }

  /**
   * Before the worker starts: the link's model, prompt, temperature and section. Once rendered: its tab and focus,
   * or the tour's step it names (whose own state wins).
   */
  readLink(): void {
    if (!this.host.urlState) return;
    const link = readLinkState(location.hash);
    if (link.model && link.model !== 'builtin') this.host.model = link.model;
    if (link.prompt !== undefined) this.host.prompt = link.prompt;
    if (link.temperature !== undefined) this.access.setTemperature(link.temperature);
    if (link.panel) this.host[link.panel.section] = true;
    void this.host.updateComplete.then(() => {
      if (link.tour !== undefined) this.tour()?.start(link.tour);
      else if (link.panel) void this.open(link.panel, link.focus);
    });
  }

  /** Puts the playground in a tour step's state. */
  async applyStep(index: number): Promise<void> {
    const step = TOUR_STEPS[index];
    if (!step) return;
    const { prompt, temperature, panel, focus, highlight } = step.state;
    this.host.prompt = prompt;
    this.access.setTemperature(temperature ?? PLAIN_TEMPERATURE);
    this.access.useBuiltIn();
    if (panel) await this.open(panel, focus);
    else this.current = null;
    // The page settles once the model is in (a link opens on a step while it loads).
    if (this.host.status === 'loading')
      await new Promise((resolve) => this.host.addEventListener('llm-ready', resolve, { once: true }));
    if (this.tour()?.step !== index) return;
    this.highlight.show(highlight);
    this.scheduleWrite();
  }

  /** The tour was left: nothing stays highlighted. */
  leaveTour(): void {
    this.highlight.hide();
    this.scheduleWrite();
  }

  /** Opens a section, its tab and sub-tab, focused as asked (from a step, a link, the pipeline strip). */
  async open(panel: PanelTarget, focus?: PanelFocus): Promise<void> {
    const { section, tab, sub } = panel;
    this.host[section] = true;
    await this.host.updateComplete;
    const root = this.host.renderRoot;
    if (section === 'inspect') {
      const inspector = root.querySelector('llm-inspector-panel');
      if (inspector) {
        if (tab) inspector.tab = tab as typeof inspector.tab;
        if (sub) {
          inspector.sub = sub;
          // An explorer already made keeps its own section: it is set too.
          const explorer = inspector.shadowRoot?.querySelector('llm-embedding-explorer');
          if (explorer) explorer.section = sub as typeof explorer.section;
        }
        if (focus) inspector.panelFocus = focus;
      }
    } else if (tab) {
      this.tabbed(section)?.select(tab);
    }
    this.current = { panel: this.panelShown(section), ...(focus ? { focus } : {}) };
    this.scheduleWrite();
  }

  /** A click on the pipeline strip (or any `llm-open-panel`): the panel opens and comes into view. */
  async openFromEvent({ focus, ...panel }: PanelTarget & { focus?: PanelFocus }): Promise<void> {
    await this.open(panel, focus);
    const id = SECTIONS.find(({ flag }) => flag === panel.section)?.panel;
    this.host.renderRoot.querySelector(`#${id}`)?.scrollIntoView({ block: 'start' });
  }

  /** Opens or closes a section (its button): the link names the one opened last, while it is open. */
  toggle(section: SectionFlag): void {
    this.host[section] = !this.host[section];
    if (this.host[section]) this.current = { panel: this.panelShown(section) };
    else if (this.current?.panel.section === section) this.current = null;
  }

  /** A tab or an embeddings section was picked: the link names that section as it is now. */
  tabChanged(event: Event): void {
    const path = event.composedPath();
    const tabbed = TABBED_SECTIONS.find(({ element }) =>
      path.some((node) => node instanceof Element && node.localName === element),
    );
    this.current = { panel: this.panelShown(tabbed?.section ?? 'inspect') };
    this.scheduleWrite();
  }

  /** A head, a stage or a query was picked in the attention inspector. */
  focusChanged(focus: PanelFocus): void {
    this.current = { panel: this.panelShown('inspect'), focus };
    this.scheduleWrite();
  }

  /** The section's panel as it is: its tab, and the embeddings' section. */
  private panelShown(section: SectionFlag): PanelTarget {
    const root = this.host.renderRoot;
    const tabbed = this.tabbed(section);
    if (tabbed) return { section, tab: tabbed.tab };
    const inspector = section === 'inspect' ? root.querySelector('llm-inspector-panel') : null;
    if (!inspector) return { section };
    const explorer = inspector.tab === 'embeddings' ? inspector.shadowRoot?.querySelector('llm-embedding-explorer') : null;
    const sub = explorer?.section ?? inspector.sub;
    return { section, tab: inspector.tab, ...(sub ? { sub } : {}) };
  }

  /** The panel of a section whose whole state is one tab (the labs, the tuning panel): its tab, and picking one. */
  private tabbed(section: SectionFlag): { tab: string; select: (tab: string) => void } | null {
    const entry = TABBED_SECTIONS.find((tabbed) => tabbed.section === section);
    // Each entry's property holds the tab's name; a name the panel lacks leaves it on none of its tabs.
    const panel = entry && (this.host.renderRoot.querySelector(entry.element) as unknown as Record<string, string> | null);
    if (!entry || !panel) return null;
    return { tab: panel[entry.property]!, select: (tab) => (panel[entry.property] = tab) };
  }

  private tour() {
    return this.host.renderRoot.querySelector('llm-tour');
  }

  /** What the link says now. */
  linkState(): LinkState {
    const temperature = this.access.temperature();
    const pretrained = this.access.pretrained();
    const step = this.tour()?.step ?? -1;
    return {
      ...(this.host.prompt ? { prompt: this.host.prompt } : {}),
      ...(temperature !== PLAIN_TEMPERATURE ? { temperature } : {}),
      ...(this.current ? { panel: this.current.panel } : {}),
      ...(this.current?.panel.section === 'inspect' && this.current.focus ? { focus: this.current.focus } : {}),
      ...(pretrained ? { model: pretrained } : {}),
      ...(step >= 0 ? { tour: step } : {}),
    };
  }

  private scheduleWrite(): void {
    if (!this.host.urlState || this.writeTimer !== undefined) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      if (!this.host.urlState || !this.host.isConnected) return;
      const hash = writeLinkState(this.linkState());
      if (hash === location.hash || (!hash && !location.hash)) return;
      history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
    }, WRITE_EVERY_MS);
  }
}
