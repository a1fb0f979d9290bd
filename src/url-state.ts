/**
 * The playground's state as a link: the prompt, the temperature, the open panel (section, tab, sub-tab), what it
 * focuses on (layer, head, stage, query, key), the model and the tour's step, in the URL's hash, e.g.
 * `#prompt=a+fluffy+blue+creature&temperature=0.8&panel=inspect/attention&layer=2&head=1&model=gpt2&tour=7`.
 * Layers, heads and positions count from 1 in the link, as the panels show them; the tour's step too.
 * Pure functions: <llm-playground> reads the hash when it connects and writes it as things change, only with its
 * `url-state` attribute.
 */
import { SECTIONS } from './playground-sections.ts';
import type { PanelFocus, PanelTarget, SectionFlag } from './view-state.ts';

export interface LinkState {
  prompt?: string;
  temperature?: number;
  panel?: PanelTarget;
  focus?: PanelFocus;
  /** 'builtin' (the shipped model) or a pretrained model's id, e.g. 'gpt2'. */
  model?: string;
  /** The tour's step, from 0. */
  tour?: number;
}

const STAGES: readonly NonNullable<PanelFocus['stage']>[] = ['scores', 'masked', 'pattern'];
/** The focus's counts, in the link's order. */
const COUNTS = ['layer', 'head', 'query', 'key'] as const;
/** The temperature slider's range. */
const MAX_TEMPERATURE = 2;

const isSection = (name: string): name is SectionFlag => SECTIONS.some(({ flag }) => flag === name);

/** A whole number ≥ 1 in the link, as an index from 0; undefined when it is anything else. */
function index(value: string | null): number | undefined {
  if (value === null || !/^\d{1,6}$/.test(value)) return undefined;
  const number = Number(value);
  return number >= 1 ? number - 1 : undefined;
}

function temperature(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 && number <= MAX_TEMPERATURE ? number : undefined;
}

function panel(value: string | null): PanelTarget | undefined {
  const [section = '', tab, sub] = (value ?? '').split('/');
  if (!isSection(section)) return undefined;
  return { section, ...(tab ? { tab } : {}), ...(tab && sub ? { sub } : {}) };
}

/** What a hash (with or without its '#') says; anything it gets wrong is left out. */
export function readLinkState(hash: string): LinkState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const state: LinkState = {};
  const prompt = params.get('prompt');
  if (prompt !== null) state.prompt = prompt;
  const heat = temperature(params.get('temperature'));
  if (heat !== undefined) state.temperature = heat;
  const target = panel(params.get('panel'));
  if (target) state.panel = target;
  const focus: PanelFocus = {};
  for (const name of COUNTS) {
    const value = index(params.get(name));
    if (value !== undefined) focus[name] = value;
  }
  const stage = params.get('stage');
  if (STAGES.some((known) => known === stage)) focus.stage = stage as PanelFocus['stage'];
  if (Object.keys(focus).length) state.focus = focus;
  const model = params.get('model');
  if (model && /^[\w.:/-]{1,200}$/.test(model)) state.model = model;
  const tour = index(params.get('tour'));
  if (tour !== undefined) state.tour = tour;
  return state;
}

/** The hash for a state ('' when it holds nothing), its settings always in the same order. */
export function writeLinkState(state: LinkState): string {
  const params = new URLSearchParams();
  if (state.prompt !== undefined) params.set('prompt', state.prompt);
  if (state.temperature !== undefined) params.set('temperature', String(state.temperature));
  if (state.panel) {
    const { section, tab, sub } = state.panel;
    params.set('panel', [section, ...(tab ? [tab, ...(sub ? [sub] : [])] : [])].join('/'));
  }
  for (const name of COUNTS) {
    const value = state.focus?.[name];
    if (value !== undefined) params.set(name, String(value + 1));
  }
  if (state.focus?.stage) params.set('stage', state.focus.stage);
  if (state.model) params.set('model', state.model);
  if (state.tour !== undefined) params.set('tour', String(state.tour + 1));
  const text = params.toString();
  return text ? `#${text}` : '';
}
