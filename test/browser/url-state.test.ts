// The playground's state as a link (src/url-state.ts): every setting round-trips through the hash, odd prompts
// included; a link opens its state in a playground with `url-state`, the playground keeps the link current as the
// user changes things, and one without the attribute neither reads nor writes the URL.
import { expect } from 'chai';
import { emit } from '../../src/events.ts';
import type { AttentionInspector } from '../../src/elements/attention-inspector.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { SECTIONS } from '../../src/playground-sections.ts';
import { type LinkState, readLinkState, writeLinkState } from '../../src/url-state.ts';
import type { PanelFocus } from '../../src/view-state.ts';
import { addPlayground, inspectorPanel } from './playground-drives.ts';
import { random } from './seeded.ts';
import { waitFor } from './wait-for.ts';

const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const whole = (below: number) => Math.floor(random() * below);

/** Characters a prompt may hold that a URL treats specially, or that are more than one UTF-16 unit. */
const ODD = ['&', '=', '#', '+', '%', '%20', '?', '/', ' ', '\n', '\t', '"', "'", '<', '>', 'é', '␣', '😀', '\u202e', '\\'];
const TABS = ['attention', 'experiments', 'mlp', 'embeddings', 'lens', 'timelapse', 'matrices', 'softmax', 'training-step'];

function randomPrompt(): string {
  const length = whole(40);
  return Array.from({ length }, () => (random() < 0.5 ? pick(ODD) : String.fromCharCode(32 + whole(95)))).join('');
}

/** A state with each setting present or not, at random. */
function randomState(): LinkState {
  const state: LinkState = {};
  if (random() < 0.8) state.prompt = randomPrompt();
  if (random() < 0.8) state.temperature = random() < 0.2 ? pick([0, 2]) : random() * 2;
  if (random() < 0.8) {
    const section = pick(SECTIONS).flag;
    const tab = random() < 0.7 ? pick(TABS) : undefined;
    state.panel = { section, ...(tab ? { tab } : {}), ...(tab && random() < 0.5 ? { sub: pick(['neighbours', 'map']) } : {}) };
  }
  if (random() < 0.8) {
    const focus: PanelFocus = {};
    for (const name of ['layer', 'head', 'query', 'key'] as const) if (random() < 0.6) focus[name] = whole(100);
    if (random() < 0.6) focus.stage = pick(['scores', 'masked', 'pattern'] as const);
    if (Object.keys(focus).length) state.focus = focus;
  }
  if (random() < 0.5) state.model = pick(['builtin', 'gpt2', 'gpt2-medium', 'my-org/gpt2.small_v2']);
  if (random() < 0.5) state.tour = whole(30);
  return state;
}

describe('the link (url-state.ts)', () => {
  it('round-trips every setting, 300 random states with odd characters in the prompt', () => {
    for (let i = 0; i < 300; i++) {
      const state = randomState();
      const hash = writeLinkState(state);
      expect(readLinkState(hash), `${JSON.stringify(state)} as ${hash}`).to.deep.equal(state);
      // A hash read back through the browser's own URL (as location.hash gives it) says the same.
      expect(readLinkState(new URL(`https://example.org/${hash}`).hash)).to.deep.equal(state);
    }
  });

  it('writes the example of its comment, counting layers, heads and steps from 1', () => {
    const hash = writeLinkState({
      prompt: 'a fluffy blue creature',
      temperature: 0.8,
      panel: { section: 'inspect', tab: 'attention' },
      focus: { layer: 1, head: 0 },
      model: 'gpt2',
      tour: 6,
    });
    expect(hash).to.equal(
      '#prompt=a+fluffy+blue+creature&temperature=0.8&panel=inspect%2Fattention&layer=2&head=1&model=gpt2&tour=7',
    );
    expect(readLinkState('#panel=inspect/attention&layer=2').panel).to.deep.equal({ section: 'inspect', tab: 'attention' });
    expect(writeLinkState({})).to.equal('');
  });

  it('leaves out what it cannot use', () => {
    const state = readLinkState(
      '#layer=0&head=-1&query=1.5&key=x&temperature=9&panel=nowhere/attention&stage=sideways&model=<script>&tour=0&other=1',
    );
    expect(state).to.deep.equal({});
    expect(readLinkState('#temperature=&prompt=')).to.deep.equal({ prompt: '' });
  });
});

describe('<llm-playground url-state>', function () {
  let playground: LlmPlayground | null = null;
  const start = location.href;

  afterEach(() => {
    playground?.remove();
    playground = null;
    history.replaceState(null, '', start);
  });

  const attention = () => inspectorPanel(playground!)?.shadowRoot?.querySelector<AttentionInspector>('llm-attention-inspector');
  const part = (element: Element | null | undefined, name: string) =>
    element?.shadowRoot?.querySelector<HTMLElement>(`[part~="${name}"]`);

  it('opens the state a link holds: prompt, temperature, section, tab, layer, head, stage and query', async () => {
    history.replaceState(
      null,
      '',
      `#${new URLSearchParams({
        prompt: 'a fluffy blue creature',
        temperature: '0.6',
        panel: 'inspect/attention',
        layer: '3',
        head: '2',
        stage: 'masked',
        query: '4',
      })}`,
    );
    playground = await addPlayground({ 'url-state': '' });
    expect(playground.prompt).to.equal('a fluffy blue creature');
    expect(playground.inspect).to.equal(true);
    const controls = playground.shadowRoot!.querySelector('llm-sampling-controls')!;
    expect(controls.settings.temperature).to.equal(0.6);
    await waitFor(() => part(attention(), 'head-title')?.textContent === 'Layer 3, head 2', 'layer 3, head 2');
    const stage = [...attention()!.shadowRoot!.querySelectorAll<HTMLInputElement>('[part~="stage"]')].find(
      (input) => input.checked,
    );
    expect(stage?.value).to.equal('masked');
    await waitFor(
      () => attention()?.shadowRoot?.querySelector<HTMLElement>('[part~="query"][aria-checked="true"]')?.dataset.position === '3',
      'the fourth token as the query',
    );
  });

  it('keeps the link current as the user types, picks a head and opens the labs', async () => {
    history.replaceState(null, '', start.split('#')[0]);
    playground = await addPlayground({ 'url-state': '', inspect: '' });
    const box = playground.shadowRoot!.querySelector('textarea')!;
    box.value = 'The king & the queen #1';
    box.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    await waitFor(() => readLinkState(location.hash).prompt === 'The king & the queen #1', 'the prompt in the link');
    // The inspect section opened by its attribute is not named until the user opens one; a head pick is.
    playground.shadowRoot!.querySelector<HTMLButtonElement>('#inspect-toggle')!.click();
    playground.shadowRoot!.querySelector<HTMLButtonElement>('#inspect-toggle')!.click();
    await waitFor(() => readLinkState(location.hash).panel?.tab === 'attention', 'the attention tab in the link');
    const thumbnails = await waitFor(
      () => [...(attention()?.shadowRoot?.querySelectorAll<HTMLElement>('[part~="thumbnail"]') ?? [])],
      'the thumbnails',
    );
    part(thumbnails.at(-1)!, 'canvas')!.click();
    await waitFor(() => {
      const { focus } = readLinkState(location.hash);
      return focus?.layer === 3 && focus.head === 3;
    }, 'layer 4, head 4 in the link');
    playground.shadowRoot!.querySelector<HTMLButtonElement>('#labs-toggle')!.click();
    await waitFor(() => readLinkState(location.hash).panel?.section === 'labs', 'the labs in the link');
    const labs = playground.shadowRoot!.querySelector('llm-labs-panel')!;
    (await waitFor(() => labs.shadowRoot!.querySelector<HTMLButtonElement>('#tab-superposition'), 'the labs tabs')).click();
    await waitFor(() => readLinkState(location.hash).panel?.tab === 'superposition', 'the superposition lab in the link');
    expect(readLinkState(location.hash).focus, 'a lab has no focus').to.equal(undefined);
  });

  it('opens what an llm-open-panel from inside asks (as the pipeline strip sends it), and the link follows', async () => {
    history.replaceState(null, '', start.split('#')[0]);
    playground = await addPlayground({ 'url-state': '', prompt: 'a fluffy blue creature' });
    const from = playground.shadowRoot!.querySelector('llm-next-token-chart')!;
    emit(from, 'llm-open-panel', { section: 'inspect', tab: 'attention', focus: { layer: 2, head: 3, stage: 'scores' } });
    await waitFor(() => part(attention(), 'head-title')?.textContent === 'Layer 3, head 4', 'layer 3, head 4');
    expect(playground.inspect).to.equal(true);
    await waitFor(() => readLinkState(location.hash).focus?.stage === 'scores', 'the stage in the link');
    expect(readLinkState(location.hash).panel).to.deep.equal({ section: 'inspect', tab: 'attention' });
    emit(from, 'llm-open-panel', { section: 'inspect', tab: 'embeddings', sub: 'map' });
    const explorer = await waitFor(
      () => inspectorPanel(playground!)?.shadowRoot?.querySelector('llm-embedding-explorer'),
      'the embeddings',
    );
    await waitFor(() => explorer.section === 'map', 'the map section');
    await waitFor(() => readLinkState(location.hash).panel?.sub === 'map', 'the map in the link');
    emit(from, 'llm-open-panel', { section: 'labs', tab: 'parameters' });
    await waitFor(() => playground!.shadowRoot!.querySelector('llm-labs-panel')?.lab === 'parameters', 'the parameters lab');
  });

  it('without url-state, neither reads nor writes the URL', async () => {
    const link = '#prompt=from+the+link&panel=labs/superposition&tour=3';
    history.replaceState(null, '', link);
    playground = await addPlayground({ prompt: 'from the page' });
    expect(playground.prompt).to.equal('from the page');
    expect(playground.labs).to.equal(false);
    expect(playground.shadowRoot!.querySelector('llm-tour')!.step).to.equal(-1);
    const box = playground.shadowRoot!.querySelector('textarea')!;
    box.value = 'typed';
    box.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    playground.shadowRoot!.querySelector<HTMLButtonElement>('#inspect-toggle')!.click();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(location.hash).to.equal(link);
  });
});
