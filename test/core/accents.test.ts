import { describe, expect, it } from 'vitest';
import { foldLatinAccents } from '../../src/core/accents.js';

describe('foldLatinAccents', () => {
  it('takes the accents off Latin letters and leaves other text as it is', () => {
    expect(foldLatinAccents('José Ñúñez, Zoë, Şule, Đặng')).toBe('Jose Nunez, Zoe, Sule, Đang');
    expect(foldLatinAccents('straße')).toBe('straße');
    expect(foldLatinAccents('हिंदी и ёлка')).toBe('हिंदी и ёлка');
  });
});
