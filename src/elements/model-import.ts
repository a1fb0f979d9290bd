/**
 * The Import section of <llm-model-library>: a file chosen or an address
 * fetched, and while the worker reads it, its progress and Cancel. The library
 * runs the import (and takes files dropped anywhere on the panel); this draws
 * the section in the library's shadow root, so its styles reach every part.
 *
 * Parts: import, import-file, import-url, import-url-button, import-cancel, and read-progress,
 *   read-progress-bar, read-progress-text while a file is read.
 */
import { html, nothing } from 'lit';
import type { ReadProgress } from '../../workers/api/index.ts';
import { renderReadProgress } from './read-progress.ts';

export interface ImportSection {
  /** Another action runs: the section waits. */
  locked: boolean;
  /** An import runs: its progress and Cancel show. */
  importing: boolean;
  progress: ReadProgress | null;
}

/** What the library does when the section is used (what it returns is not used). */
export interface ImportActions {
  importFile(file: File): unknown;
  /** The address as typed, trimmed. */
  importUrl(url: string): unknown;
  cancel(): unknown;
}

export function renderImport({ locked, importing, progress }: ImportSection, actions: ImportActions) {
  const onFileChosen = (event: Event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    // Cleared, so choosing the same file again (after fixing it) imports again.
    input.value = '';
    if (file) actions.importFile(file);
  };
  const importUrl = (event: Event) => {
    const row = (event.target as HTMLElement).closest('.row')!;
    actions.importUrl(row.querySelector<HTMLInputElement>('[part~="import-url"]')!.value.trim());
  };
  return html`<section part="import">
    <h4>Import</h4>
    <p class="caption">
      A .safetensors file of a GPT like the ones here, such as one exported above. Drop it on this panel, choose it, or
      give its address; it is checked before anything is stored.
    </p>
    <div class="row">
      <label for="import-file">File</label>
      <input
        id="import-file"
        part="import-file"
        type="file"
        accept=".safetensors"
        ?disabled=${locked}
        aria-busy=${String(importing)}
        @change=${onFileChosen}
      />
    </div>
    <div class="row">
      <label for="import-url">URL</label>
      <input
        id="import-url"
        part="import-url"
        type="url"
        placeholder="https://example.org/model.safetensors"
        ?disabled=${locked}
        @keydown=${(event: KeyboardEvent) => event.key === 'Enter' && importUrl(event)}
      />
      <button part="import-url-button" ?disabled=${locked} aria-busy=${String(importing)} @click=${importUrl}>
        ${importing ? 'Importing…' : 'Fetch'}
      </button>
    </div>
    ${
      importing
        ? html`<div class="row">
            ${renderReadProgress(progress, 'Import')}
            <button part="import-cancel" @click=${actions.cancel}>Cancel</button>
          </div>`
        : nothing
    }
  </section>`;
}
