import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { z } from 'zod';
import { MemcubeError } from '../core/errors.js';
import { parseWith } from '../core/validate.js';

export const llmConfigSchema = z.strictObject({
  /** Base URL up to the API version, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  baseURL: z.url(),
  model: z.string().min(1),
  apiKey: z.string().optional(),
});
export type LlmConfig = z.output<typeof llmConfigSchema>;

/**
 * The configured chat model from `MEMCUBE_LLM_BASE_URL`, `MEMCUBE_LLM_MODEL` and
 * `MEMCUBE_LLM_API_KEY`; an `invalid_config` error naming what is missing otherwise.
 */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig {
  const baseURL = env.MEMCUBE_LLM_BASE_URL?.trim();
  const model = env.MEMCUBE_LLM_MODEL?.trim();
  const missing = [...(baseURL ? [] : ['MEMCUBE_LLM_BASE_URL']), ...(model ? [] : ['MEMCUBE_LLM_MODEL'])];
  if (missing.length > 0) {
    throw new MemcubeError(
      'invalid_config',
      `no language model configured: set ${missing.join(' and ')} (and MEMCUBE_LLM_API_KEY if the server wants one)`,
      { field: 'llm' },
    );
  }
  const apiKey = env.MEMCUBE_LLM_API_KEY?.trim();
  return parseWith(
    llmConfigSchema,
    { baseURL, model, ...(apiKey ? { apiKey } : {}) },
    { root: 'llm', kind: 'config' },
  );
}

/** A chat model behind any OpenAI-compatible `/chat/completions` API (OpenAI, Ollama, vLLM, LM Studio). */
export function createLanguageModel(config: LlmConfig): LanguageModel {
  const provider = createOpenAICompatible({
    name: 'memcube-llm',
    baseURL: config.baseURL,
    ...(config.apiKey ? { apiKey: config.apiKey } : {}),
  });
  return provider.chatModel(config.model);
}
