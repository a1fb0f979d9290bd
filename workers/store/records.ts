/**
 * What a saved model is in IndexedDB: one whole record per save, so a record
 * is either all there or not there (see checkpoint-store.ts for the pointer
 * switch that makes saving crash-safe).
 *
 * Schema versions:
 *   1  { version: 1, name, config, vocab, weights (ArrayBuffer), step, history: [step, loss][], savedAt }
 *      (weights and a loss curve only; no optimizer state, no corpus)
 *   2  CheckpointRecord below: adds the id, the tokenizer as JSON, the optimizer
 *      state and everything else needed to resume training, the corpus, and
 *      created/updated times.
 *      Later, still 2: an optional `tuning` (StoredTuning) on a model tuned here. A record
 *      without it reads as before, and an older playground reading a record with it
 *      opens the tuned weights as a plain model, so no reader needs a new number.
 * migrateRecord() reads any of them as the newest.
 */
import type { GPTConfig } from '../engine/config.ts';
import type { RandomState } from '../engine/random.ts';
import type { TokenizerJSON } from '../engine/tokenizer.ts';
import type { TrainingSettings } from '../engine/train.ts';
import type { CheckpointSummary } from '../api/library.ts';
import type {
  DialogueSource,
  Preference,
  ReferenceModel,
  RewardModelReport,
  TuningDefaults,
  TuningKind,
  TuningPoint,
  Verdict,
} from '../api/tuning.ts';
import { excerpt } from '../api/errors.ts';

export const SCHEMA_VERSION = 2;

/** The text a model was trained on. Built-in text is made again from its seed; any other is kept, to resume training. */
export interface StoredCorpus {
  name: string;
  kind: 'builtin' | 'text';
  /** Present when kind is 'text'. */
  text?: string;
  characters: number;
}

export interface StoredLossPoint {
  step: number;
  loss: number;
  validationLoss?: number;
}

export interface StoredSample {
  step: number;
  prompt: string;
  text: string;
}

/** Where training stood: enough to go on exactly as if it had never stopped. */
export interface StoredTraining {
  /** The schedule (learning rate, warm-up, total steps), AdamW and batch settings, and the seed. */
  settings: TrainingSettings;
  sampleInterval: number;
  /** Steps taken: the position in the learning-rate schedule. */
  step: number;
  tokensSeen: number;
  /** The batch sampler's state after `step` steps. */
  random: RandomState;
  /** AdamW's moments (params.ts layout) and its update count. */
  optimizer: { m: Float32Array; v: Float32Array; updates: number };
  history: StoredLossPoint[];
  samples: StoredSample[];
  /** The vocabulary of the corpus (checked against it when training resumes). */
  vocabulary: string[];
  /** Set when training stopped because the loss stopped being finite. */
  diverged?: string;
}

/** Where tuning stood on a model tuned here: enough to show it again and go on tuning (its optimizer starts afresh). */
export interface StoredTuning {
  /** The model tuning started from, and its weights (params.ts layout): the "before" of every comparison. */
  reference: ReferenceModel;
  referenceParams: Float32Array;
  kind: TuningKind | null;
  settings: TuningDefaults;
  /** The dialogues SFT learned from (pasted text kept whole); null before any were chosen. */
  dialogues: DialogueSource | null;
  preferences: Preference[];
  verdicts: Verdict[];
  /** The step the run under way ends at (the steps taken are the history's length). */
  totalSteps: number;
  history: TuningPoint[];
  /** DPO's reference (TuningState.preferenceReference), once tuning on choices began; no weights: the reference's. */
  preferenceReference?: { model: ReferenceModel; params?: Float32Array };
  /** The reward model policy gradient tunes against: its head [nEmbd] over preferenceReference, and its report. */
  rewardModel?: { head: Float32Array; report: RewardModelReport };
  /** Set when tuning stopped because a step's loss or gradient was not finite. */
  diverged?: string;
}

export interface CheckpointRecord {
  schema: typeof SCHEMA_VERSION;
  id: string;
  name: string;
  config: GPTConfig;
  tokenizer: TokenizerJSON;
  /** The weights, params.ts layout. */
  params: Float32Array;
  /** Seed the weights were initialised from. */
  seed: number;
  /** Null for a model that was not trained here (imported, or the shipped one). */
  training: StoredTraining | null;
  corpus: StoredCorpus | null;
  /** Where the weights came from when not trained here: a file name or URL. */
  source?: string;
  /** Set on a model tuned here (SFT, DPO): its reference, choices and history. */
  tuning?: StoredTuning;
  /** Milliseconds since 1970 (Date.now()). */
  created: number;
  updated: number;
}

/** What schema 1 wrote. */
interface RecordV1 {
  version: 1;
  name: string;
  config: GPTConfig;
  vocab: string[];
  weights: ArrayBuffer;
  step: number;
  history: [number, number][];
  savedAt: number;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * A stored record as the newest schema. `id` is the key it was stored under
 * (schema 1 did not hold one). Schema 1 kept weights and a loss curve but no
 * optimizer state or sampler position, so it cannot resume training: it comes
 * back as a model not trained here (training null), its seed unknown (0).
 */
export function migrateRecord(raw: unknown, id: string): CheckpointRecord {
  if (isObject(raw) && raw['schema'] === SCHEMA_VERSION) return raw as unknown as CheckpointRecord;
  if (isObject(raw) && raw['version'] === 1) {
    const old = raw as unknown as RecordV1;
    return {
      schema: SCHEMA_VERSION,
      id,
      name: old.name,
      config: old.config,
      tokenizer: { type: 'char', vocab: old.vocab },
      params: new Float32Array(old.weights),
      seed: 0,
      training: null,
      corpus: null,
      created: old.savedAt,
      updated: old.savedAt,
    };
  }
  const version = isObject(raw) ? (raw['schema'] ?? raw['version']) : undefined;
  throw new Error(
    version === undefined
      ? `saved model ${id} is not a model record`
      : `saved model ${id} has schema version ${excerpt(version)}; this version of the playground reads 1 to ${SCHEMA_VERSION}`,
  );
}

/** The list line of a record. Text counts 2 bytes a character: JavaScript and IndexedDB hold it as UTF-16. */
export function summarize(record: CheckpointRecord): CheckpointSummary {
  const { training, corpus, tuning } = record;
  const arrays =
    record.params.byteLength +
    (training ? training.optimizer.m.byteLength + training.optimizer.v.byteLength : 0) +
    (tuning?.referenceParams.byteLength ?? 0) +
    (tuning?.preferenceReference?.params?.byteLength ?? 0);
  const texts = (corpus?.text?.length ?? 0) + (tuning?.dialogues?.kind === 'text' ? tuning.dialogues.text.length : 0);
  const summary: CheckpointSummary = {
    id: record.id,
    name: record.name,
    config: record.config,
    step: training?.step ?? 0,
    bytes: arrays + 2 * texts,
    created: record.created,
    updated: record.updated,
  };
  if (corpus) summary.corpus = corpus.name;
  if (record.source !== undefined) summary.source = record.source;
  if (tuning) summary.tunedFrom = tuning.reference.name;
  return summary;
}
