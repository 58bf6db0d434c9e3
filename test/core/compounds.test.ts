import { describe, expect, it } from 'vitest';
import { joinedCompounds } from '../../src/core/compounds.js';

describe('joinedCompounds', () => {
  it('writes each hyphenated word as one, lower case, once, in order', () => {
    expect(joinedCompounds('De-stress, non-stop; de-stress again. A mother-in-law!')).toEqual([
      'destress',
      'nonstop',
      'motherinlaw',
    ]);
  });

  it('leaves out words with no hyphen, numbers and dangling hyphens', () => {
    expect(joinedCompounds('a 2-day trip - well-known - x-')).toEqual(['wellknown']);
    expect(joinedCompounds('')).toEqual([]);
  });
});
