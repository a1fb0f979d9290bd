import { expect } from 'chai';
import { countParameters, createParameters } from '../../workers/engine/params.ts';
import { MODEL_PRESETS, presetConfig } from '../../workers/engine/presets.ts';

/** Parameters of a tied GPT-2, counted by hand: per layer 12·C² weights and 13·C biases and norms. */
function handCount(V: number, T: number, L: number, C: number): number {
  return V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C;
}

const TARGETS: Record<string, number> = {
  tiny: 25_000,
  small: 200_000,
  medium: 1_000_000,
  large: 5_000_000,
  words: 800_000,
  'nano-cpu': 800_000,
};

describe('MODEL_PRESETS', () => {
  it('offers tiny, small, medium, large, words and nano-cpu, each with its own label', () => {
    expect(MODEL_PRESETS.map((preset) => preset.id)).to.deep.equal(['tiny', 'small', 'medium', 'large', 'words', 'nano-cpu']);
    const labels = MODEL_PRESETS.map((preset) => preset.label);
    expect(new Set(labels).size).to.equal(labels.length);
    for (const label of labels) expect(label.length).to.be.above(0);
  });

  for (const vocabSize of [40, 65, 100]) {
    it(`lands within 40% of each target size for a vocabulary of ${vocabSize}`, () => {
      for (const preset of MODEL_PRESETS) {
        const config = presetConfig(preset.id, vocabSize);
        const total = countParameters(config).total;
        const target = TARGETS[preset.id]!;
        expect(total, preset.id).to.be.within(0.6 * target, 1.4 * target);
        expect(total, `${preset.id} by hand`).to.equal(handCount(vocabSize, config.blockSize, config.nLayer, config.nEmbd));
        expect(createParameters(config).data.length, `${preset.id} buffer`).to.equal(total);
      }
    });
  }

  it('grows strictly from tiny to large', () => {
    const totals = ['tiny', 'small', 'medium', 'large'].map((id) => countParameters(presetConfig(id, 65)).total);
    for (let i = 1; i < totals.length; i++) expect(totals[i]).to.be.above(totals[i - 1]! * 3);
  });

  it('makes nano-cpu the benchmark reference: 4 layers, 4 heads, 128 wide, context 64', () => {
    expect(presetConfig('nano-cpu', 65)).to.deep.equal({
      vocabSize: 65,
      blockSize: 64,
      nLayer: 4,
      nHead: 4,
      nEmbd: 128,
      tied: true,
    });
    expect(countParameters(presetConfig('nano-cpu', 65)).total).to.equal(809_856);
  });

  it('accepts a preset object, including a custom one', () => {
    const custom = { id: 'custom', label: 'Custom', nLayer: 3, nHead: 2, nEmbd: 48, blockSize: 32, tied: false };
    expect(presetConfig(custom, 50)).to.deep.equal({ vocabSize: 50, blockSize: 32, nLayer: 3, nHead: 2, nEmbd: 48, tied: false });
    expect(presetConfig(MODEL_PRESETS[1]!, 65)).to.deep.equal(presetConfig('small', 65));
  });

  it('names the choices when the preset is unknown, and rejects impossible shapes', () => {
    expect(() => presetConfig('huge', 65)).to.throw(
      'unknown model preset "huge"; choose one of tiny, small, medium, large, nano-cpu',
    );
    expect(() => presetConfig('tiny', 0)).to.throw('config.vocabSize must be a positive integer');
    const uneven = { id: 'uneven', label: 'Uneven', nLayer: 1, nHead: 3, nEmbd: 32, blockSize: 16, tied: true };
    expect(() => presetConfig(uneven, 65)).to.throw('must be divisible');
  });
});
