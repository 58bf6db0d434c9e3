import { describe, expect, it } from 'vitest';
import { MemoryOS } from '../../src/os/memory-os.js';
import { lexicalTerms } from '../../src/retrieve/query-terms.js';

describe('lexicalTerms', () => {
  it('drops stopwords and question scaffolding, keeping the topic words in order', () => {
    expect(lexicalTerms('What did Caroline research at the library?')).toEqual([
      'caroline',
      'research',
      'library',
    ]);
    expect(lexicalTerms('When does Melanie go swimming, and why?')).toEqual(['melanie', 'go', 'swimming']);
    expect(lexicalTerms('Tell me: do you know whose idea it was?')).toEqual(['idea']);
  });

  it('returns nothing for a query made only of stopwords and scaffolding', () => {
    expect(lexicalTerms('What is it that you would do when they are there?')).toEqual([]);
    expect(lexicalTerms('')).toEqual([]);
    expect(lexicalTerms('?!  ...  ,')).toEqual([]);
  });

  it('drops personal pronouns consistently (he, she, her, they)', () => {
    // "she" is missing from the stock English list while "he" and "her" are on it.
    expect(lexicalTerms('What did he say to her about the trip?')).toEqual(['say', 'trip']);
    expect(lexicalTerms('What did they say about the trip?')).toEqual(['say', 'trip']);
    expect(lexicalTerms('What did she say about the trip?')).toEqual(['say', 'trip']);
  });

  it('adds a hyphenated word written as one after the words, so "de-stress" also finds "destress"', () => {
    expect(lexicalTerms('How does Mel de-stress and practise self-care?')).toEqual([
      'mel',
      'de',
      'stress',
      'practise',
      'self',
      'care',
      'destress',
      'selfcare',
    ]);
  });

  it('lowercases and de-duplicates, keeping first-appearance order', () => {
    expect(lexicalTerms('Berlin BERLIN berlin Paris berlin PARIS')).toEqual(['berlin', 'paris']);
  });

  it('lowercases a dotted capital I whole, as the full-text index does ("İstanbul" is "istanbul")', () => {
    expect(lexicalTerms('Where is İstanbul, and who is İlker?')).toEqual(['istanbul', 'ilker']);
    expect(lexicalTerms('İstanbul-based friends')).toEqual(['istanbul', 'based', 'friends', 'istanbulbased']);
  });

  it('keeps numbers, including single digits and years', () => {
    expect(lexicalTerms('What happened in May 2023?')).toEqual(['happened', 'may', '2023']);
    expect(lexicalTerms('room 7 on floor 12')).toEqual(['room', '7', 'floor', '12']);
  });

  it('drops one-letter words that are not numbers', () => {
    expect(lexicalTerms('x y z plan B')).toEqual(['plan']);
  });

  it('splits possessives and punctuation', () => {
    expect(lexicalTerms("Alice's cat-sitter (Bob)")).toEqual(['alice', 'cat', 'sitter', 'bob', 'catsitter']);
  });

  it('handles unicode letters: accents, sharp s, non-Latin scripts', () => {
    expect(lexicalTerms('Why did Jürgen move to Zürich? ZÜRICH!')).toEqual(['jürgen', 'move', 'zürich']);
    expect(lexicalTerms('Straße CAFÉ café')).toEqual(['straße', 'café']);
    expect(lexicalTerms('東京 に 行った')).toEqual(['東京', '行った']);
  });
});

describe('a dotted capital I through search', () => {
  it('finds a memory that says "İstanbul" by the word as written', async () => {
    const os = await MemoryOS.open({ path: ':memory:', embedder: 'none' });
    try {
      const cube = await os.createCube('trips');
      await cube.add('We moved to İstanbul last spring.');
      await cube.add('The weather was mild.');
      const hits = await cube.search('İstanbul', { channels: ['lexical'] });
      expect(hits.map((h) => h.item.content)).toEqual(['We moved to İstanbul last spring.']);
    } finally {
      await os.close();
    }
  });
});
