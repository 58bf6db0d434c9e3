import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { InvalidInputError, MemcubeError } from './errors.js';

/** `['messages', 1, 'content']` → `messages[1].content`. */
export function formatPath(path: ReadonlyArray<PropertyKey>, root?: string): string {
  let out = root ?? '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** What one branch of a union expected at the union's own place: `"local"`, `an object`. */
function expectedOf(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v));
  if (issue.code === 'invalid_type')
    return [
      issue.expected === 'object' || issue.expected === 'array'
        ? `an ${issue.expected}`
        : `a ${issue.expected}`,
    ];
  return [];
}

function describeIssue(
  issue: z.core.$ZodIssue,
  root: string | undefined,
): { field: string; message: string } {
  const field = formatPath(issue.path, root);
  if (issue.code === 'invalid_union') {
    // The one branch the value got inside (an object of the right shape) says what is wrong in it;
    // otherwise the value matched none, and the union's alternatives are what to give.
    const inside = issue.errors.filter((branch) => branch.some((i) => i.path.length > 0));
    const [first] = inside.length === 1 ? (inside[0] ?? []) : [];
    if (first) return describeIssue({ ...first, path: [...issue.path, ...first.path] }, root);
    // Only what each branch wanted at the union's own place, not inside a field of it.
    const atUnion = (branch: z.core.$ZodIssue[]) =>
      branch.filter((i) => i.path.length === 0).flatMap(expectedOf);
    const expected = [...new Set(issue.errors.flatMap(atUnion))];
    if (expected.length > 0) {
      return { field, message: `${field ? `${field}: ` : ''}expected ${expected.join(' or ')}` };
    }
  }
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => formatPath([k], field || undefined));
    // The error map below leaves a suggestion for the first key in the message, or nothing.
    const hint = issue.message.startsWith('did you mean') ? ` (${issue.message})` : '';
    return {
      field: keys[0] ?? field,
      message: `unknown field ${keys.map((k) => `'${k}'`).join(', ')}${hint}`,
    };
  }
  return { field, message: field ? `${field}: ${issue.message}` : issue.message };
}

/** `5000`, `"x"`, `an array`: what was given, briefly. */
function given(input: unknown): string {
  if (typeof input === 'number' || typeof input === 'boolean') return String(input);
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  if (input === null) return 'null';
  if (input === undefined) return 'nothing';
  return Array.isArray(input) ? 'an array' : `a ${typeof input}`;
}

const UNITS: Record<string, [string, (input: unknown) => number | undefined]> = {
  string: [' characters', (v) => (typeof v === 'string' ? v.length : undefined)],
  array: [' items', (v) => (Array.isArray(v) ? v.length : undefined)],
};

/**
 * Messages that say the limit and what was given ("at most 1000 (got 5000)"), for zod's "Too big:
 * expected number to be <=1000"; an unknown key's nearest known one. Undefined keeps zod's. A
 * parse's own issues carry the input (`'input' in issue`); issues parsed elsewhere (the server's
 * request validation) do not, and are told without it.
 */
function friendlyMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const hasInput = 'input' in issue;
  switch (issue.code) {
    case 'too_big':
    case 'too_small': {
      const [unit, size] = UNITS[issue.origin] ?? [
        '',
        (v: unknown) => (typeof v === 'number' ? v : undefined),
      ];
      const big = issue.code === 'too_big';
      const bound = big ? issue.maximum : issue.minimum;
      const word = big ? (issue.inclusive ? 'at most' : 'under') : issue.inclusive ? 'at least' : 'over';
      const got = size(issue.input);
      // "at least 1 item", not "1 items".
      const units = bound === 1 || bound === 1n ? unit.replace(/s$/, '') : unit;
      return `${word} ${String(bound)}${units}${got === undefined ? '' : ` (got ${got})`}`;
    }
    case 'invalid_type': {
      // Told again without the input, zod's own message still says what came: "received undefined".
      const received = hasInput
        ? given(issue.input)
        : /received (\w+)/.exec((issue as { message?: string }).message ?? '')?.[1];
      if (received === 'nothing' || received === 'undefined') return `required (${issue.expected})`;
      return `expected ${issue.expected}${received === undefined ? '' : `, got ${received}`}`;
    }
    case 'invalid_value': {
      const got = hasInput ? `, got ${given(issue.input)}` : '';
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    }
    case 'unrecognized_keys': {
      const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod
        ?.def?.shape;
      const [key] = issue.keys;
      if (!shape || key === undefined) return undefined;
      const known = Object.keys(shape);
      const nearest = known.length > 0 ? closest(key, known) : undefined;
      // A near miss only: up to two edits (a swap is two), fewer than half the name's letters.
      const edits = nearest === undefined ? Number.POSITIVE_INFINITY : distance(key, nearest);
      return edits <= Math.max(2, Math.floor(key.length / 3)) && edits < key.length / 2
        ? `did you mean '${nearest}'?`
        : '';
    }
    default:
      return undefined;
  }
}

/**
 * Parses `value` with `schema`; on failure throws an error that names the first bad field.
 * `kind` picks the error class so config problems and input problems read differently.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  options: { root?: string; kind?: 'input' | 'config' } = {},
): z.output<S> {
  const result = schema.safeParse(value, { error: friendlyMessage });
  if (result.success) return result.data;
  throw errorFromIssues(result.error.issues, options);
}

/**
 * The error `parseWith` throws for these issues, naming the first bad field. `zodMessages`: the
 * issues come from a parse without `parseWith`'s messages (the server's request validation), so
 * theirs are told again the same way.
 */
export function errorFromIssues(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  options: { root?: string; kind?: 'input' | 'config'; zodMessages?: boolean } = {},
): MemcubeError {
  const told = issues[0];
  const retold = told && options.zodMessages ? friendlyMessage(told as z.core.$ZodRawIssue) : undefined;
  const first = told && retold !== undefined ? { ...told, message: retold } : told;
  const { field, message } = first
    ? describeIssue(first, options.root)
    : { field: options.root ?? '', message: 'invalid value' };
  if (options.kind === 'config') {
    return new MemcubeError('invalid_config', `invalid config: ${message}`, { field });
  }
  return new InvalidInputError(message, field || undefined);
}
