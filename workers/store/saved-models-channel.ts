/**
 * Word between the engines that share one database of saved models (two
 * playgrounds on a page, two tabs): each says when it changed the saved
 * models, and hears when another did, so every Saved models list stays live.
 * One BroadcastChannel per database, named after it; a channel never hears
 * its own messages, so an engine is told only of the others' changes.
 */
export class SavedModelsChannel {
  private channel: BroadcastChannel | undefined;
  private listener: (() => unknown) | null = null;

  constructor(private readonly dbName: string) {}

  /** Tells the other engines on this database that its saved models changed. */
  changed(): void {
    this.open()?.postMessage('changed');
  }

  /** `listener` runs whenever another engine changed the saved models; the last one given replaces the one before. */
  listen(listener: () => unknown): void {
    this.listener = listener;
    this.open();
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }

  /** Opened on first use, so an engine that never saves (the CLI) holds nothing open. */
  private open(): BroadcastChannel | undefined {
    if (this.channel || typeof BroadcastChannel !== 'function') return this.channel;
    this.channel = new BroadcastChannel(`llm-playground-saved-models:${this.dbName}`);
    // A listener in a page that has gone away rejects; nothing is left to tell there.
    this.channel.onmessage = () => void Promise.resolve(this.listener?.()).catch(() => {});
    return this.channel;
  }
}
