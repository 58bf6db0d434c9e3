import { describe, expect, it } from 'vitest';
import { lazyModule } from '../../src/core/lazy-module.js';

describe('lazyModule', () => {
  it('loads the module on the first call and hands back the same one after', () => {
    const chrono = lazyModule<typeof import('chrono-node')>('chrono-node');
    const first = chrono();
    expect(first.parse('on 7 May 2023', new Date(Date.UTC(2023, 5, 1)))[0]?.start.get('day')).toBe(7);
    expect(chrono()).toBe(first);
  });

  it('names the module when it cannot be loaded, at the first call, not at import', () => {
    const missing = lazyModule('memcube-no-such-module');
    expect(() => missing()).toThrow(/memcube-no-such-module/);
  });
});
