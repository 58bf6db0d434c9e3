import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidInputError, MemcubeError } from '../../src/core/errors.js';
import { contentHash, isItemId, newItemId } from '../../src/core/ids.js';
import { cubeNameSchema, instantSchema } from '../../src/core/schemas.js';
import { errorFromIssues, formatPath, parseWith } from '../../src/core/validate.js';

function thrown(fn: () => unknown): MemcubeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MemcubeError);
    return err as MemcubeError;
  }
  throw new Error('expected a MemcubeError');
}

describe('formatPath', () => {
  it('joins keys with dots and indexes with brackets, under an optional root', () => {
    expect(formatPath(['messages', 1, 'content'])).toBe('messages[1].content');
    expect(formatPath([0, 'tags', 2], 'messages')).toBe('messages[0].tags[2]');
    expect(formatPath([], 'patch')).toBe('patch');
    expect(formatPath([])).toBe('');
    expect(formatPath(['limit'], 'options')).toBe('options.limit');
  });
});

describe('parseWith', () => {
  const schema = z.strictObject({ name: z.string(), items: z.array(z.strictObject({ n: z.number() })) });

  it('returns the parsed value', () => {
    expect(parseWith(schema, { name: 'a', items: [{ n: 1 }] })).toEqual({ name: 'a', items: [{ n: 1 }] });
  });

  it('throws invalid_input naming the first bad field', () => {
    const err = thrown(() =>
      parseWith(schema, { name: 'a', items: [{ n: 1 }, { n: 'two' }] }, { root: 'body' }),
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.code).toBe('invalid_input');
    expect(err.field).toBe('body.items[1].n');
    expect(err.message.startsWith('body.items[1].n: ')).toBe(true);
  });

  it('names an unknown key with its full path', () => {
    const err = thrown(() =>
      parseWith(schema, { name: 'a', items: [{ n: 1, extra: true }] }, { root: 'body' }),
    );
    expect(err.field).toBe('body.items[0].extra');
    expect(err.message).toBe("unknown field 'body.items[0].extra'");
  });

  it('says the limit and what was given, and the known key an unknown one is nearest to', () => {
    const limits = z.strictObject({
      limit: z.number().int().min(1).max(1000),
      name: z.string().max(3),
      tags: z.array(z.string()).min(1),
      order: z.enum(['asc', 'desc']),
    });
    const ok = { limit: 5, name: 'abc', tags: ['x'], order: 'asc' };
    const message = (value: unknown) => thrown(() => parseWith(limits, value, { root: 'options' })).message;
    expect(message({ ...ok, limit: 5000 })).toBe('options.limit: at most 1000 (got 5000)');
    expect(message({ ...ok, limit: 0 })).toBe('options.limit: at least 1 (got 0)');
    expect(message({ ...ok, name: 'abcd' })).toBe('options.name: at most 3 characters (got 4)');
    expect(message({ ...ok, tags: [] })).toBe('options.tags: at least 1 item (got 0)');
    expect(message({ ...ok, limit: 'ten' })).toBe('options.limit: expected number, got "ten"');
    const { name: _left, ...noName } = ok;
    expect(message(noName)).toBe('options.name: required (string)');
    expect(message({ ...ok, order: 'up' })).toBe('options.order: expected one of "asc", "desc", got "up"');
    expect(message({ ...ok, limti: 5 })).toBe("unknown field 'options.limti' (did you mean 'limit'?)");
    // Nothing near enough: no guess.
    expect(message({ ...ok, colour: 'red' })).toBe("unknown field 'options.colour'");
  });

  it('retells issues parsed elsewhere (the request validation of the server) without their input', () => {
    const body = z.strictObject({ query: z.string(), limit: z.number() });
    const told = (value: unknown) => {
      const parsed = body.safeParse(value);
      if (parsed.success) throw new Error('expected a failure');
      return errorFromIssues(parsed.error.issues, { zodMessages: true }).message;
    };
    expect(told({ limit: 1 })).toBe('query: required (string)');
    expect(told({ query: 'x', limit: Number.NaN })).toBe('limit: expected number, got NaN');
  });

  it('names what a union takes, or the field wrong inside the one branch the value entered', () => {
    const embedder = z.union([
      z.enum(['local', 'none']),
      z.discriminatedUnion('provider', [
        z.strictObject({ provider: z.literal('remote'), model: z.string() }),
      ]),
    ]);
    const config = z.strictObject({ embedder });
    const told = (value: unknown) => thrown(() => parseWith(config, { embedder: value }, { kind: 'config' }));
    expect(told('openai').message).toBe('invalid config: embedder: expected "local" or "none" or an object');
    const inside = told({ provider: 'remote' });
    expect([inside.field, inside.message]).toEqual([
      'embedder.model',
      'invalid config: embedder.model: required (string)',
    ]);
  });

  it('throws invalid_config for config problems', () => {
    const err = thrown(() => parseWith(schema, { name: 3, items: [] }, { kind: 'config' }));
    expect(err.code).toBe('invalid_config');
    expect(err.field).toBe('name');
    expect(err.message.startsWith('invalid config: name: ')).toBe(true);
  });

  it('leaves field undefined when the whole value is wrong and there is no root', () => {
    const err = thrown(() => parseWith(z.string(), 5));
    expect(err.field).toBeUndefined();
  });
});

describe('instantSchema', () => {
  it('accepts ISO strings, Dates and epoch milliseconds, yielding epoch milliseconds', () => {
    expect(instantSchema.parse('2024-05-03T10:00:00Z')).toBe(Date.parse('2024-05-03T10:00:00Z'));
    expect(instantSchema.parse('2024-05-03T12:00:00+02:00')).toBe(Date.parse('2024-05-03T10:00:00Z'));
    expect(instantSchema.parse(new Date(0))).toBe(0);
    expect(instantSchema.parse(1_700_000_000_000)).toBe(1_700_000_000_000);
  });

  it('rejects what is not a time', () => {
    for (const bad of ['not a date', '', Number.NaN, Number.POSITIVE_INFINITY, new Date('x'), null, true]) {
      expect(instantSchema.safeParse(bad).success, String(bad)).toBe(false);
    }
  });
});

describe('cubeNameSchema', () => {
  it('accepts safe names and rejects path-like or odd ones', () => {
    for (const good of ['a', 'Z9', 'team.notes_2024-05', 'x'.repeat(128)])
      expect(cubeNameSchema.safeParse(good).success, good).toBe(true);
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a b', '_x', 'x'.repeat(129), 'café', 'a\nb']) {
      expect(cubeNameSchema.safeParse(bad).success, bad).toBe(false);
    }
  });
});

describe('ids and hashes', () => {
  it('makes distinct, time-ordered UUIDv7 ids', () => {
    const ids = Array.from({ length: 50 }, newItemId);
    expect(new Set(ids).size).toBe(50);
    expect(ids.every(isItemId)).toBe(true);
    expect(ids.every((id) => id[14] === '7')).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(isItemId('../../etc/passwd')).toBe(false);
    expect(isItemId('')).toBe(false);
  });

  it('hashes content ignoring outer and repeated whitespace, as sha256 hex', () => {
    expect(contentHash('  I like   tea.\n')).toBe(contentHash('I like tea.'));
    expect(contentHash('I like tea.')).not.toBe(contentHash('I like coffee.'));
    expect(contentHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
