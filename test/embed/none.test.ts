import { describe, expect, it } from 'vitest';
import { NoneEmbedder } from '../../src/embed/none.js';

describe('NoneEmbedder', () => {
  it('has no dimensions and embeds nothing', async () => {
    const none = new NoneEmbedder();
    expect(none.id).toBe('none');
    expect(await none.dimensions()).toBe(0);
    expect(await none.embed([])).toEqual([]);
  });

  it('refuses to embed text, since lexical-only callers must not ask', async () => {
    await expect(new NoneEmbedder().embed(['hello'])).rejects.toMatchObject({
      code: 'embedder_failed',
      message: expect.stringMatching(/lexical-only/),
    });
  });
});
