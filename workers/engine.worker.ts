/** The one engine worker: serves EngineService to the page through Comlink. */
import * as Comlink from 'comlink';
import { EngineService } from './service.ts';

Comlink.expose(new EngineService({ transfer: Comlink.transfer }));
