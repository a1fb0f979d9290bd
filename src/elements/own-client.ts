/**
 * Lets a lab run on its own in any page: when the page has set no client by
 * the time the lab connects, the lab gets a worker of its own (an EngineClient),
 * ended when the lab disconnects or when the page sets a client after all.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { EngineClient } from '../client.ts';

interface ClientHost extends ReactiveControllerHost {
  client: unknown;
}

export class OwnClient implements ReactiveController {
  private own: EngineClient | null = null;

  constructor(private readonly host: ClientHost) {
    host.addController(this);
  }

  hostConnected(): void {
    if (!this.host.client) this.host.client = this.own = new EngineClient();
  }

  hostDisconnected(): void {
    this.end();
  }

  /** A client set by the page replaces the one made here. */
  hostUpdate(): void {
    if (this.own && this.host.client !== this.own) this.end();
  }

  private end(): void {
    if (!this.own) return;
    this.own.terminate();
    if (this.host.client === this.own) this.host.client = null;
    this.own = null;
  }
}
