import { describe, expect, it } from 'vitest';
import { foldLatinAccents, lowerCase } from '../../src/core/accents.js';

describe('foldLatinAccents', () => {
  it('takes the accents off Latin letters and leaves other text as it is', () => {
    expect(foldLatinAccents('José Ñúñez, Zoë, Şule, Đặng')).toBe('Jose Nunez, Zoe, Sule, Đang');
    expect(foldLatinAccents('straße')).toBe('straße');
    expect(foldLatinAccents('हिंदी и ёлка')).toBe('हिंदी и ёлка');
  });
});

describe('lowerCase', () => {
  it('lowercases a dotted capital I to a plain i, and everything else as toLowerCase does', () => {
    expect(lowerCase('İSTANBUL Ünye')).toBe('istanbul ünye');
    expect(lowerCase('I İ i̇')).toBe('i i i');
  });
});
