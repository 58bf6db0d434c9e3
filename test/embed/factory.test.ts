import { describe, expect, it } from 'vitest';
import { MemcubeError } from '../../src/core/errors.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { createEmbedder, embedderConfigFromEnv } from '../../src/embed/factory.js';
import { LocalEmbedder } from '../../src/embed/local.js';
import { NoneEmbedder } from '../../src/embed/none.js';
import { OpenAICompatibleEmbedder } from '../../src/embed/openai-compatible.js';

describe('createEmbedder', () => {
  it('builds the local embedder from the short and the object form', () => {
    expect(createEmbedder('local')).toBeInstanceOf(LocalEmbedder);
    expect(createEmbedder({ provider: 'local', batchSize: 8 })).toBeInstanceOf(LocalEmbedder);
  });

  it('builds the none embedder', () => {
    expect(createEmbedder('none')).toBeInstanceOf(NoneEmbedder);
    expect(createEmbedder({ provider: 'none' })).toBeInstanceOf(NoneEmbedder);
  });

  it('builds an openai-compatible embedder', async () => {
    const embedder = createEmbedder({
      provider: 'openai-compatible',
      baseURL: 'http://localhost:11434/v1',
      model: 'nomic-embed-text',
      dimensions: 768,
    });
    expect(embedder).toBeInstanceOf(OpenAICompatibleEmbedder);
    expect(embedder.id).toBe('openai-compatible:nomic-embed-text@768');
    expect(await embedder.dimensions()).toBe(768);
  });

  it('passes an existing Embedder through unchanged', () => {
    const custom: Embedder = { id: 'custom', dimensions: async () => 3, embed: async () => [] };
    expect(createEmbedder(custom)).toBe(custom);
  });

  it('names the bad field of an invalid config', () => {
    let err: unknown;
    try {
      createEmbedder({ provider: 'openai-compatible', baseURL: 'not a url', model: 'x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MemcubeError);
    expect(err).toMatchObject({ code: 'invalid_config', field: 'embedder.baseURL' });
    expect((err as MemcubeError).message).toContain('embedder.baseURL');
  });
});

describe('embedderConfigFromEnv', () => {
  it('is undefined unless base URL and model are both set', () => {
    expect(embedderConfigFromEnv({})).toBeUndefined();
    expect(embedderConfigFromEnv({ MEMCUBE_EMBEDDER_BASE_URL: 'http://localhost:8080/v1' })).toBeUndefined();
    expect(embedderConfigFromEnv({ MEMCUBE_EMBEDDER_MODEL: 'm' })).toBeUndefined();
  });

  it('builds an openai-compatible config', () => {
    expect(
      embedderConfigFromEnv({
        MEMCUBE_EMBEDDER_BASE_URL: 'https://api.openai.com/v1',
        MEMCUBE_EMBEDDER_MODEL: 'text-embedding-3-small',
        MEMCUBE_EMBEDDER_API_KEY: 'sk-test',
        MEMCUBE_EMBEDDER_DIMENSIONS: '256',
      }),
    ).toEqual({
      provider: 'openai-compatible',
      baseURL: 'https://api.openai.com/v1',
      model: 'text-embedding-3-small',
      apiKey: 'sk-test',
      dimensions: 256,
    });
  });

  it('rejects a non-numeric dimension, naming the variable', () => {
    const env = {
      MEMCUBE_EMBEDDER_BASE_URL: 'http://localhost:8080/v1',
      MEMCUBE_EMBEDDER_MODEL: 'm',
      MEMCUBE_EMBEDDER_DIMENSIONS: 'lots',
    };
    expect(() => embedderConfigFromEnv(env)).toThrow(
      expect.objectContaining({
        code: 'invalid_config',
        message: expect.stringMatching(/MEMCUBE_EMBEDDER_DIMENSIONS/),
      }),
    );
  });

  it('leaves range checks to createEmbedder, which names the field', () => {
    const config = embedderConfigFromEnv({
      MEMCUBE_EMBEDDER_BASE_URL: 'http://localhost:8080/v1',
      MEMCUBE_EMBEDDER_MODEL: 'm',
      MEMCUBE_EMBEDDER_DIMENSIONS: '0',
    });
    expect(() => createEmbedder(config ?? 'local')).toThrow(
      expect.objectContaining({ code: 'invalid_config', field: 'embedder.dimensions' }),
    );
  });
});
