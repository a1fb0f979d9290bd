import { EngineClient } from '../../src/client.ts';

type Options = ConstructorParameters<typeof EngineClient>[0];

/** Engine clients for one describe block (no starting model unless asked), each terminated after its test. */
export function engineClients(): (options?: Options) => EngineClient {
  const made: EngineClient[] = [];
  afterEach(() => {
    for (const client of made.splice(0)) client.terminate();
  });
  return (options = {}) => {
    const client = new EngineClient({ modelUrl: null, ...options });
    made.push(client);
    return client;
  };
}
