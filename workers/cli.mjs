#!/usr/bin/env node
// The `llm-playground` command. The CLI and the engine are TypeScript; tsx lets
// Node load them directly, so there is no build step between an edit and a run.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
