import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { NoneEmbedder } from '../../src/embed/none.js';
import { answerPrompt, createQaGrader, judgePrompt } from '../../src/eval/qa.js';
import { bleu1, tokenF1 } from '../../src/eval/qa-scores.js';
import { runLocomo } from '../../src/eval/run-locomo.js';
import { createLanguageModel, llmConfigFromEnv } from '../../src/llm/model.js';
import { LOCOMO_MINI } from './fixtures.js';

type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;
type CallOptions = MockLanguageModelV3['doGenerateCalls'][number];

function reply(text: string): GenerateResult {
  return {
    content: [{ type: 'text', text }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: {
      inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: 3, text: 3, reasoning: undefined },
    },
    warnings: [],
  };
}

/** The text of the single user message a call sent. */
function promptText(call: CallOptions | undefined): string {
  const message = call?.prompt.find((m) => m.role === 'user');
  if (message?.role !== 'user') return '';
  return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

describe('tokenF1', () => {
  it('is the harmonic mean of token precision and recall, ignoring case and punctuation', () => {
    // 1 shared token of 3 predicted and 1 gold: P = 1/3, R = 1, F1 = 0.5.
    expect(tokenF1('a red kayak', 'red')).toBeCloseTo(0.5, 10);
    expect(tokenF1('Red!', 'red')).toBe(1);
    // Repeated tokens count at most as often as on both sides: shared 2, P = 2/3, R = 1, F1 = 0.8.
    expect(tokenF1('the the cat', 'the cat')).toBeCloseTo(0.8, 10);
    expect(tokenF1('blue', 'red')).toBe(0);
    expect(tokenF1('', '')).toBe(1);
    expect(tokenF1('', 'red')).toBe(0);
  });
});

describe('bleu1', () => {
  it('is clipped unigram precision times the brevity penalty', () => {
    // 1 candidate token, 3 reference tokens: precision 1, BP = exp(1 - 3/1) = 0.135335.
    expect(bleu1('red', 'a red kayak')).toBeCloseTo(Math.exp(-2), 10);
    // Longer than the reference: no penalty, precision 1/3.
    expect(bleu1('a red kayak', 'red')).toBeCloseTo(1 / 3, 10);
    // "the" appears once in the reference, so only one of the three counts.
    expect(bleu1('the the the', 'the cat')).toBeCloseTo(1 / 3, 10);
    expect(bleu1('', 'red')).toBe(0);
  });
});

describe('createQaGrader (AI SDK mock model)', () => {
  it('answers from the context, then judges with the LoCoMo / Mem0 protocol', async () => {
    const answer = new MockLanguageModelV3({ doGenerate: reply('A red kayak.') });
    const judge = new MockLanguageModelV3({ doGenerate: reply('{"label": "CORRECT"}') });
    const grader = createQaGrader({ answer, judge });
    const outcome = await grader.grade({
      question: 'What did Alice buy?',
      gold: 'red kayak',
      context: '[2023-03-03 14:30 UTC | session session_1 | Alice (user) | id x] I bought a red kayak.',
      askedAt: '2023/06/01 (Thu) 10:00',
    });
    // F1: 2 shared of 3 predicted and 2 gold tokens, P = 2/3, R = 1 → 0.8; BLEU-1: 2/3, no penalty.
    expect(outcome).toEqual({ answer: 'A red kayak.', label: 'CORRECT', j: 1, f1: 0.8, bleu1: 2 / 3 });

    const asked = promptText(answer.doGenerateCalls[0]);
    expect(asked).toContain('I bought a red kayak.');
    expect(asked).toContain('Question: What did Alice buy?');
    expect(asked).toContain('The question is asked on 2023/06/01 (Thu) 10:00.');
    expect(answer.doGenerateCalls[0]?.temperature).toBe(0);

    const judged = promptText(judge.doGenerateCalls[0]);
    expect(judged).toContain('Gold answer: red kayak');
    expect(judged).toContain('Generated answer: A red kayak.');
    expect(judge.doGenerateCalls[0]?.responseFormat).toMatchObject({ type: 'json' });
  });

  it('leaves a question ungraded when the judge does not reply with the JSON label', async () => {
    const grader = createQaGrader({
      answer: new MockLanguageModelV3({ doGenerate: reply('Biscuit') }),
      judge: new MockLanguageModelV3({ doGenerate: reply('It looks right to me.') }),
    });
    const outcome = await grader.grade({
      question: 'What is the puppy called?',
      gold: 'Biscuit',
      context: '',
    });
    expect(outcome).toMatchObject({ answer: 'Biscuit', label: null, j: null, f1: 1, bleu1: 1 });
    expect(outcome.judgeError).toBeTruthy();
  });

  it('runs inside `memcube eval locomo --qa`: J, F1 and BLEU-1 per category', async () => {
    // Always answers "Biscuit"; the judge says CORRECT only where that is the gold answer (1 of 6).
    const answer = new MockLanguageModelV3({ doGenerate: reply('Biscuit') });
    const judge = new MockLanguageModelV3({
      doGenerate: async (call) =>
        reply(`{"label": "${promptText(call).includes('Gold answer: Biscuit\n') ? 'CORRECT' : 'WRONG'}"}`),
    });
    const results = await runLocomo({
      data: LOCOMO_MINI,
      retriever: 'bm25',
      embedder: new NoneEmbedder(),
      embeddingCache: null,
      version: 'test',
      qa: createQaGrader({ answer, judge }),
    });
    expect(answer.doGenerateCalls).toHaveLength(6);
    expect(results.config.qa).toBe(true);
    expect(results.metrics.overall).toMatchObject({ count: 6, j: 0.1667, f1: 0.1667, bleu1: 0.1667 });
    expect(results.metrics.byCategory['multi-hop']).toMatchObject({ j: 1, f1: 1, bleu1: 1 });
    expect(results.metrics.byCategory['single-hop']).toMatchObject({ j: 0, f1: 0, bleu1: 0 });
    const puppy = results.questions.find((q) => q.id === 'mini-1#1');
    expect(puppy?.qa).toEqual({ answer: 'Biscuit', label: 'CORRECT', j: 1, f1: 1, bleu1: 1 });
    // The answer model saw the 2,000-token context pack, which holds the matching turn.
    expect(promptText(answer.doGenerateCalls[1])).toContain(
      'I adopted a puppy and gave him the name Biscuit.',
    );
  });
});

describe('prompts', () => {
  it('say what the model has to do', () => {
    expect(answerPrompt({ question: 'Q?', context: '' })).toContain('(no memories found)');
    expect(judgePrompt('Q?', 'gold', 'generated')).toContain('"label", whose value is "CORRECT" or "WRONG"');
  });
});

describe('llmConfigFromEnv / createLanguageModel', () => {
  it('names the missing variables', () => {
    expect(() => llmConfigFromEnv({})).toThrow(
      'no language model configured: set MEMCUBE_LLM_BASE_URL and MEMCUBE_LLM_MODEL',
    );
    expect(() => llmConfigFromEnv({ MEMCUBE_LLM_BASE_URL: 'http://localhost:11434/v1' })).toThrow(
      'set MEMCUBE_LLM_MODEL',
    );
    expect(() => llmConfigFromEnv({ MEMCUBE_LLM_BASE_URL: 'not a url', MEMCUBE_LLM_MODEL: 'm' })).toThrow(
      /invalid config: llm\.baseURL/,
    );
  });

  it('builds an OpenAI-compatible chat model', () => {
    const config = llmConfigFromEnv({
      MEMCUBE_LLM_BASE_URL: 'http://localhost:11434/v1',
      MEMCUBE_LLM_MODEL: 'llama3.1',
      MEMCUBE_LLM_API_KEY: 'k',
    });
    expect(config).toEqual({ baseURL: 'http://localhost:11434/v1', model: 'llama3.1', apiKey: 'k' });
    const model = createLanguageModel(config);
    expect(typeof model === 'object' && model.modelId).toBe('llama3.1');
  });
});
