/**
 * What the model picker and the saved models' Downloaded group say about a
 * pretrained model (GPT-2): its state in this browser, the storage it needs,
 * and how far a download or an open has got (a bar with MB of MB, percent, the
 * time left and where a resumed download started).
 * Parts: progress, progress-bar, progress-text.
 */
import { css, html, nothing } from 'lit';
import type { PretrainedModel, PretrainedProgress, StorageInfo } from '../../workers/api/index.ts';
import { count, formatBytes } from '../format.ts';

/** "45 s", "3 min 10 s", "1 h 5 min". */
export function formatDuration(seconds: number): string {
  const whole = Math.max(1, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return whole % 60 ? `${minutes} min ${whole % 60} s` : `${minutes} min`;
  return minutes % 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${Math.floor(minutes / 60)} h`;
}

/** What this browser keeps of it, in a few words (`short`: fewer, for the picker's buttons). */
export function describeState(model: PretrainedModel, short = false): string {
  const size = formatBytes(model.storedBytes);
  if (model.state === 'stored') return short ? 'kept here, opens offline' : `kept in this browser (${size}), opens offline`;
  if (model.state === 'partial') {
    const part = `${size} of ${formatBytes(model.bytes)}`;
    return short ? `partly downloaded, ${part}` : `partly downloaded: ${part}, resumes from there`;
  }
  return model.bytes ? `${formatBytes(model.bytes)} to download` : 'to download';
}

/** "548.1 MB to download, 124,439,808 parameters": what the choice costs. */
export function describeSize(model: PretrainedModel): string {
  const size = model.bytes ? `About ${formatBytes(model.bytes)}` : 'Its size is known once the download starts';
  const parameters = model.parameters ? `, ${count(model.parameters)} parameters` : '';
  return `${size}${parameters}.`;
}

/** The storage still to fill against what the browser says is left for this page. */
export function describeStorage(model: PretrainedModel, storage: StorageInfo | undefined): string {
  if (model.state === 'stored') return 'All of it is kept in this browser: it opens without the network.';
  const needed = Math.max(0, model.bytes - model.storedBytes);
  const need = model.bytes ? `It needs ${formatBytes(needed)} more of this browser's storage` : "It needs this browser's storage";
  if (!storage?.available) return `${need}, but this browser gives the page no storage.`;
  if (storage.quota === undefined || storage.usage === undefined) return `${need}; the browser does not say how much is left.`;
  return `${need}; ${formatBytes(Math.max(0, storage.quota - storage.usage))} is left for this page.`;
}

/** "Downloading: 120.0 MB of 524.5 MB (22%), about 3 min left, resumed at 80.0 MB". */
export function describePretrainedProgress(progress: PretrainedProgress): string {
  const { phase, loaded, total, resumedFrom, secondsLeft, bytesPerSecond } = progress;
  const done = total
    ? `${formatBytes(loaded)} of ${formatBytes(total)} (${Math.floor((loaded / total) * 100)}%)`
    : formatBytes(loaded);
  const doing = phase === 'download' ? 'Downloading' : 'Reading it from this browser';
  const speed = bytesPerSecond ? `, ${formatBytes(bytesPerSecond)}/s` : '';
  const left = secondsLeft !== undefined ? `, about ${formatDuration(secondsLeft)} left` : '';
  const resumed = phase === 'download' && resumedFrom > 0 ? `, resuming from ${formatBytes(resumedFrom)}` : '';
  return `${doing}: ${done}${speed}${left}${resumed}`;
}

/** The bar and its words; null progress: started, nothing read yet. `label` names what is read, for screen readers. */
export function renderPretrainedProgress(progress: PretrainedProgress | null, label: string) {
  const known = !!progress?.total;
  return html`<div class="pretrained-progress" part="progress">
    <progress
      part="progress-bar"
      aria-label=${label}
      max=${known ? progress.total : nothing}
      value=${known ? progress.loaded : nothing}
    ></progress>
    <!-- Not a live region: it changes several times a second; the bar carries the value. -->
    <span part="progress-text">${progress ? describePretrainedProgress(progress) : 'Starting…'}</span>
  </div>`;
}

export const pretrainedProgressStyles = css`
  .pretrained-progress {
    display: flex;
    flex-wrap: wrap;
    gap: 0.3rem 0.6rem;
    align-items: center;
    margin: 0.4rem 0;
    font-size: 0.9rem;
  }
  .pretrained-progress progress {
    flex: 1 1 10rem;
    accent-color: var(--_accent);
  }
`;
