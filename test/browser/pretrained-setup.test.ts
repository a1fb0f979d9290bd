// What <llm-playground>'s `model`, `model-base` and `pretrainedSources` ask of the pretrained models.
import { expect } from 'chai';
import { pretrainedSetup } from '../../src/pretrained-setup.ts';
import { DEFAULT_PRETRAINED_SOURCES, type PretrainedSource } from '../../workers/api/index.ts';

describe('pretrainedSetup', () => {
  it('takes a default id as a pretrained model, and a checkpoint URL or "random" as before', () => {
    expect(pretrainedSetup('gpt2', '', null)).to.deep.equal({ want: 'gpt2', sources: null });
    expect(pretrainedSetup('gpt2-medium', '', null)).to.deep.equal({ want: 'gpt2-medium', sources: null });
    for (const model of ['', 'random', 'models/tiny.safetensors', 'https://example.org/gpt2.safetensors']) {
      expect(pretrainedSetup(model, '', null)).to.deep.equal({ want: '', sources: null });
    }
  });

  it("gives the host page's sources and takes their ids", () => {
    const sources: PretrainedSource[] = [
      {
        id: 'distil',
        name: 'DistilGPT-2',
        baseUrl: 'https://example.org/distilgpt2/',
        bytes: 353_000_000,
        parameters: 81_912_576,
      },
    ];
    expect(pretrainedSetup('distil', '', sources)).to.deep.equal({ want: 'distil', sources });
    expect(pretrainedSetup('gpt2', '', sources)).to.deep.equal({ want: '', sources });
  });

  it('points the id model names at model-base, read against the page, with the trailing slash the files need', () => {
    const { want, sources } = pretrainedSetup('gpt2', 'mirror/gpt2', null);
    expect(want).to.equal('gpt2');
    expect(sources!.map((source) => source.id)).to.deep.equal(DEFAULT_PRETRAINED_SOURCES.map((source) => source.id));
    expect(sources![0]).to.deep.equal({
      ...DEFAULT_PRETRAINED_SOURCES[0],
      baseUrl: new URL('mirror/gpt2/', document.baseURI).href,
    });
    expect(sources![1]).to.deep.equal(DEFAULT_PRETRAINED_SOURCES[1]);
    // No `model`: GPT-2 small's files are the ones moved.
    expect(pretrainedSetup('', 'https://example.org/m/', null).sources![0]!.baseUrl).to.equal('https://example.org/m/');
  });

  it('adds a source for an id no source has, its size told once the download starts', () => {
    const { want, sources } = pretrainedSetup('my-gpt2', 'https://example.org/my-gpt2/resolve/main/', null);
    expect(want).to.equal('my-gpt2');
    expect(sources!.at(-1)).to.deep.equal({
      id: 'my-gpt2',
      name: 'my-gpt2',
      baseUrl: 'https://example.org/my-gpt2/resolve/main/',
      bytes: 0,
      parameters: 0,
    });
    expect(sources).to.have.length(DEFAULT_PRETRAINED_SOURCES.length + 1);
  });
});
