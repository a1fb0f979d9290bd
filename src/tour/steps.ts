/**
 * The tour: the story a beginner follows, from next-token odds to GPT-3's size, as steps over the playground's own
 * panels. Each step is data: what it says, what to notice, and the state it puts the playground in (the model, the
 * prompt, the open panel and what it focuses on, the element it highlights). The prompts are ones the shipped
 * word-piece model knows from its corpus, so what the panels show is worth reading.
 */
import type { PanelFocus, PanelTarget } from '../view-state.ts';

/** What a step sets up before it is shown. */
export interface TourState {
  /** The model the step reads: the shipped one. */
  model: 'builtin';
  prompt: string;
  /** The sampling temperature, where the step is about it (else 1, so the bars are the model's own odds). */
  temperature?: number;
  /** The section (and its tab) opened; none: the first screen's own parts. */
  panel?: PanelTarget;
  focus?: PanelFocus;
  /** The highlighted element: a selector in the playground's shadow root, then one in each element's shadow root. */
  highlight: readonly string[];
}

export interface TourStep {
  chapter: number;
  /** The chapter's title. */
  title: string;
  /** The step's own title, in a chapter of several steps. */
  part?: string;
  /** One or two sentences. */
  text: string;
  /** What to notice, in one line. */
  notice: string;
  state: TourState;
}

const FACT = 'Michael Jordan plays the sport of';
const ADJECTIVES = 'a fluffy blue creature';
const DIALOGUE = 'User: Where is the Eiffel tower? Assistant:';
/** The shipped model's adjective head (ADJECTIVE_HEAD: layer 2, head 1) with " creature" as the query, " fluffy" as the key. */
const ADJECTIVE_FOCUS = { layer: 1, head: 0, query: 3, key: 1 } as const;

const inspector = (...path: string[]) => ['llm-inspector-panel', ...path];
const attention = (part: string) => inspector('llm-attention-inspector', `[part~="${part}"]`);
const matrices = (part: string) => inspector('llm-head-matrices', `[part~="${part}"]`);
const embeddings = (section: string, part: string) =>
  inspector('llm-embedding-explorer', `llm-embedding-${section}`, `[part~="${part}"]`);
const lab = (element: string) => ['llm-labs-panel', element];
const builtin = { model: 'builtin' } as const;

/** A step of chapter 12 on the dialogue prompt, in a tab of the tuning panel, highlighting `path` inside it. */
function tuningStep(part: string, text: string, notice: string, tab: 'dialogues' | 'choices', path: string[]): TourStep {
  return {
    chapter: 12,
    title: 'Fine-tuning and preference tuning',
    part,
    text,
    notice,
    state: { ...builtin, prompt: DIALOGUE, panel: { section: 'tune', tab }, highlight: ['llm-tuning-panel', ...path] },
  };
}

/** A step of chapter 7 on "a fluffy blue creature", in the adjective head: the attention panel at a stage, or the matrices. */
function attentionStep(
  part: string,
  text: string,
  notice: string,
  view: { stage: NonNullable<PanelFocus['stage']>; highlight: string } | { matrices: string },
): TourStep {
  const state = { ...builtin, prompt: ADJECTIVES };
  return {
    chapter: 7,
    title: 'Attention',
    part,
    text,
    notice,
    state:
      'matrices' in view
        ? {
            ...state,
            panel: { section: 'inspect', tab: 'matrices' },
            focus: ADJECTIVE_FOCUS,
            highlight: matrices(view.matrices),
          }
        : {
            ...state,
            panel: { section: 'inspect', tab: 'attention' },
            focus: { ...ADJECTIVE_FOCUS, stage: view.stage },
            highlight: attention(view.highlight),
          },
  };
}

/** A step on one section of the embeddings panel, highlighting one of its parts. */
const embeddingsStep = (step: Omit<TourStep, 'state'>, prompt: string, section: string, part: string): TourStep => ({
  ...step,
  state: {
    ...builtin,
    prompt,
    panel: { section: 'inspect', tab: 'embeddings', sub: section },
    highlight: embeddings(section, part),
  },
});

export const TOUR_STEPS: readonly TourStep[] = [
  {
    chapter: 1,
    title: 'Prediction is a probability distribution',
    text:
      'A language model reads a text and gives every token of its vocabulary a probability of coming next. ' +
      'These bars are the shipped model’s odds after the prompt.',
    notice: 'One token takes most of the probability: the model learned this fact from its corpus.',
    state: { ...builtin, prompt: FACT, temperature: 1, highlight: ['[part~="chart"]'] },
  },
  {
    chapter: 2,
    title: 'Sampling and temperature',
    text:
      'Step draws one token at random, in proportion to the bars, and appends it. The temperature divides the ' +
      'scores before softmax: below 1 the likeliest token takes more, above 1 the odds flatten.',
    notice: 'At 1.5 the bars are flatter than at 1; drag the slider towards 0 and the likeliest bar takes more and more.',
    state: {
      ...builtin,
      prompt: 'The king and the queen',
      temperature: 1.5,
      highlight: ['[part~="controls"]', '[part~="temperature"]'],
    },
  },
  {
    chapter: 3,
    title: 'Tokens',
    text:
      'The model reads tokens, not letters: word pieces from a vocabulary learned from its corpus. A space ' +
      'before a word belongs to its token (shown ␣).',
    notice: 'Each chip’s number is its row in the vocabulary; common words are one token each.',
    state: { ...builtin, prompt: 'The fluffy blue creature sat by the river.', highlight: ['[part~="tokens"]'] },
  },
  embeddingsStep(
    {
      chapter: 4,
      title: 'Embeddings and directions',
      part: 'Neighbours',
      text:
        'Each token starts as its row of the embedding matrix: a vector of numbers, learned in training. Tokens used ' +
        'alike end up pointing alike.',
      notice: 'The tokens nearest " tower" by cosine, with how close each is (1 would be the same direction).',
    },
    'In Paris, the Eiffel tower stood tall.',
    'neighbours',
    'neighbours',
  ),
  embeddingsStep(
    {
      chapter: 4,
      title: 'Embeddings and directions',
      part: 'Arithmetic',
      text: 'Differences between vectors carry meaning: king − man + woman is a vector too, and some token lies nearest it.',
      notice: 'The nearest token to king − man + woman (leaving out those three) is " queen".',
    },
    'The king and the queen',
    'arithmetic',
    'arithmetic-results',
  ),
  embeddingsStep(
    {
      chapter: 4,
      title: 'Embeddings and directions',
      part: 'Directions',
      text: 'cats − cat and dogs − dog are two separate differences, yet they point the same way: a direction for "more than one".',
      notice: 'The cosine of the two differences: 1 would be exactly the same direction, 0 unrelated.',
    },
    'By the fire, two cats sleep.',
    'directions',
    'directions-cosine',
  ),
  embeddingsStep(
    {
      chapter: 5,
      title: 'Dot products',
      text:
        'The dot product of two vectors multiplies them number by number and adds up: positive when they point alike, ' +
        '0 when at right angles, negative when opposed. Attention is built on it.',
      notice: 'The dot product, cosine and angle of " king" and " queen".',
    },
    'The king and the queen',
    'angle',
    'angle-values',
  ),
  embeddingsStep(
    {
      chapter: 6,
      title: 'Context size',
      text:
        'The model reads a fixed number of tokens at once, its context; each position has a vector of its own, added ' +
        'to the token’s. Text beyond the context is not seen.',
      notice: 'One row and one column per position the model can read: neighbouring positions are alike.',
    },
    'The king and the queen',
    'positions',
    'position-heatmap',
  ),
  attentionStep(
    'Query and key',
    'In one head, each token’s vector is multiplied by W_Q into a query (what it looks for) and by W_K into a key ' +
      '(what it offers). Both are much shorter than the embedding.',
    'The query of " creature" and the key of " fluffy", multiplied number by number and added up.',
    { matrices: 'dot-product' },
  ),
  attentionStep(
    'Scores ÷ √d',
    'Every query is dotted with every key, and divided by the square root of their width: one score per pair of tokens.',
    'Rows are queries, columns keys; hover or use the arrow keys for a cell’s exact score.',
    { stage: 'scores', highlight: 'head-heatmap' },
  ),
  attentionStep(
    'The causal mask',
    'A token may not look at the tokens after it: those scores become −∞ before softmax, so their weight is exactly 0.',
    'The hatched cells above the diagonal.',
    { stage: 'masked', highlight: 'head-heatmap' },
  ),
  attentionStep(
    'The pattern',
    'Softmax turns each row of scores into weights that sum to 1: how much the query token takes from each earlier token.',
    'In this head, " creature" puts most of its weight on its adjectives.',
    { stage: 'pattern', highlight: 'head-heatmap' },
  ),
  attentionStep(
    'Values',
    'Each token also gives a value vector: what it would add to a token that attends to it. The value map is low ' +
      'rank: down to the head’s width, then back up.',
    'The value map’s parameters, down then up, for this model and for GPT-3.',
    { matrices: 'value-counts' },
  ),
  attentionStep(
    'The output',
    'The head mixes the value vectors in the pattern’s proportions and the output matrix brings the mix back ' +
      'to the embedding’s width: that is what the head adds to the token.',
    'What each head adds to " creature", largest first, and the tokens it pushes up.',
    { stage: 'pattern', highlight: 'updates' },
  ),
  attentionStep(
    'Many heads',
    'A layer runs several heads side by side, each with its own W_Q, W_K and W_V, and adds up what they all add.',
    'Each square is one head’s pattern: they look at different tokens.',
    { stage: 'pattern', highlight: 'overview' },
  ),
  {
    chapter: 8,
    title: 'The MLP and stored facts',
    part: 'Neurons',
    text:
      'After attention, each token’s vector goes through an MLP on its own: a wide layer of neurons, each a dot ' +
      'product with one row, then GELU, then a step back down.',
    notice: 'The neurons that fire most at the chosen token, and the tokens each pushes up.',
    state: { ...builtin, prompt: FACT, panel: { section: 'inspect', tab: 'mlp' }, highlight: inspector('llm-mlp-neurons') },
  },
  {
    chapter: 8,
    title: 'The MLP and stored facts',
    part: 'One neuron, one fact',
    text: 'A toy MLP with one neuron: its row reads "Michael + Jordan", its bias is −1, and its column points at "basketball".',
    notice: 'Switch a name off: the neuron stops firing and basketball is no longer added.',
    state: { ...builtin, prompt: FACT, panel: { section: 'labs', tab: 'fact' }, highlight: lab('llm-fact-mlp-lab') },
  },
  {
    chapter: 9,
    title: 'Layers repeat: the logit lens',
    text:
      'Attention and MLP repeat, layer after layer, each adding to the same vectors. Reading the vector out after ' +
      'each layer shows the prediction forming.',
    notice: 'Read down: the top guesses after each layer, until the last layer’s are the bars above.',
    state: {
      ...builtin,
      prompt: FACT,
      panel: { section: 'inspect', tab: 'lens' },
      highlight: inspector('llm-logit-lens', '[part~="lens"]'),
    },
  },
  {
    chapter: 10,
    title: 'Unembedding and softmax',
    part: 'The unembedding',
    text: 'The last vector is dotted with one row per token of the vocabulary (the unembedding): one score, a logit, per token.',
    notice: 'A token’s row of the unembedding, as its numbers.',
    state: {
      ...builtin,
      prompt: FACT,
      panel: { section: 'inspect', tab: 'matrices' },
      highlight: matrices('unembedding-row'),
    },
  },
  {
    chapter: 10,
    title: 'Unembedding and softmax',
    part: 'Softmax',
    text: 'Softmax turns the logits into probabilities: it exponentiates each and divides by the sum, so the largest takes most.',
    notice: 'Load the model’s real logits, then move the temperature.',
    state: { ...builtin, prompt: FACT, panel: { section: 'labs', tab: 'softmax' }, highlight: lab('llm-softmax-lab') },
  },
  {
    chapter: 11,
    title: 'Pretraining and backpropagation',
    part: 'One step up close',
    text:
      'Training shows the model a sentence, scores how surprised it was by each next token (the loss), and ' +
      'backpropagation nudges every weight to make the right tokens likelier.',
    notice: 'After one step, the right answer’s probability goes up.',
    state: {
      ...builtin,
      prompt: FACT,
      panel: { section: 'labs', tab: 'training-step' },
      highlight: lab('llm-training-step-lab'),
    },
  },
  {
    chapter: 11,
    title: 'Pretraining and backpropagation',
    part: 'Train from scratch',
    text: 'Repeat that step thousands of times from random weights and the samples turn from noise into sentences.',
    notice: 'Play trains a new model in this tab; the loss falls as you watch.',
    state: { ...builtin, prompt: FACT, panel: { section: 'train' }, highlight: ['llm-training-panel', '[part~="play-button"]'] },
  },
  tuningStep(
    'Fine-tuning on dialogues',
    'A pretrained model continues text. Fine-tuning goes on training it on dialogues only, counting the loss on ' +
      'the answers, so that after "Assistant:" it answers.',
    'Before, this model goes on with a line of its corpus. Press Play: after 60 steps it answers the question.',
    'dialogues',
    ['llm-tuning-dialogues', 'llm-tuning-compare'],
  ),
  tuningStep(
    'Tuning on your choices',
    'Then the model is tuned towards answers people prefer. Here you pick the better of two answers, and Direct ' +
      'Preference Optimization makes the one you chose likelier than the other.',
    'As it tunes, the chosen answer’s odds over the other rise, and the KL shows how far it moved from where it began.',
    'choices',
    ['llm-tuning-choices', '[part~="choice-question"]'],
  ),
  tuningStep(
    'RLHF in small',
    'Big chatbots take this step with a reward model: it learns from people’s choices to score answers, then the ' +
      'model samples answers and policy gradient makes the better-scored ones likelier.',
    'Here the reward model is one layer over the frozen model; a KL penalty holds the tuned model near where it began.',
    'choices',
    ['llm-tuning-choices', 'llm-tuning-reinforcement', '[part~="rl-train-button"]'],
  ),
  {
    chapter: 13,
    title: 'A chatbot is prediction after a system prompt',
    text:
      'A chat is the same next-token prediction: a system prompt and the turns so far are laid out as one text, and ' +
      'the model continues it where the assistant speaks.',
    notice: 'The coloured text is all the model reads: the system line, then each turn. Edit the system line and ask again.',
    state: {
      ...builtin,
      prompt: DIALOGUE,
      panel: { section: 'chat' },
      highlight: ['llm-chat-panel', 'llm-model-chat', '[part~="system-prompt"]'],
    },
  },
  {
    chapter: 14,
    title: 'Superposition',
    text:
      'In many dimensions, random directions are nearly at right angles, so a model can keep far more ideas than ' +
      'it has dimensions, each a direction.',
    notice: 'As the dimension grows, the angles bunch up around 90°.',
    state: {
      ...builtin,
      prompt: FACT,
      panel: { section: 'labs', tab: 'superposition' },
      highlight: lab('llm-superposition-lab'),
    },
  },
  {
    chapter: 15,
    title: 'How big GPT-3 is',
    text: 'GPT-3 has 175 billion parameters in eight kinds of matrices; the same counting gives this model’s size.',
    notice: 'In GPT-3, attention holds about a third of the parameters and the MLPs about two thirds.',
    state: { ...builtin, prompt: FACT, panel: { section: 'labs', tab: 'parameters' }, highlight: lab('llm-parameter-lab') },
  },
];

/** The step's heading: "7. Attention: the causal mask". */
export const stepTitle = ({ chapter, title, part }: TourStep): string => `${chapter}. ${title}${part ? `: ${part}` : ''}`;
