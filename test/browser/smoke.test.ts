import { expect } from 'chai';
import { countParameters, KNOWN_CONFIGS } from '../../workers/engine/params.ts';

describe('smoke', () => {
  it('counts GPT-3', () => {
    expect(countParameters(KNOWN_CONFIGS['GPT-3 175B']!).query).to.equal(14495514624);
  });
});
