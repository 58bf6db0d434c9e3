import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLocomo, parseEvidence, parseLocomoDateTime } from '../../src/eval/loaders/locomo.js';
import { loadLongMemEval, parseLongMemEvalDate } from '../../src/eval/loaders/longmemeval.js';
import { LOCOMO_DEV, LOCOMO_MINI, LONGMEMEVAL_DEV, LONGMEMEVAL_MINI, skipWithoutData } from './fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memcube-eval-loaders-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, content: string | Buffer): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, content);
  return file;
}

const locomoMini = () => JSON.parse(fs.readFileSync(LOCOMO_MINI, 'utf8'));
const longMemEvalMini = () => JSON.parse(fs.readFileSync(LONGMEMEVAL_MINI, 'utf8'));

describe('parseLocomoDateTime', () => {
  it('reads "h:mm am|pm on D Month, YYYY" as UTC', () => {
    expect(parseLocomoDateTime('1:56 pm on 8 May, 2023')).toBe(Date.UTC(2023, 4, 8, 13, 56));
    expect(parseLocomoDateTime('12:48 am on 1 February, 2023')).toBe(Date.UTC(2023, 1, 1, 0, 48));
    expect(parseLocomoDateTime('12:05 pm on 24 June, 2022')).toBe(Date.UTC(2022, 5, 24, 12, 5));
    expect(parseLocomoDateTime('10:04 am on 19 December, 2023')).toBe(Date.UTC(2023, 11, 19, 10, 4));
  });

  it('refuses anything else, and impossible dates', () => {
    for (const bad of [
      '31 June 2023',
      '1:56 pm on 31 June, 2023',
      '13:00 pm on 1 May, 2023',
      '1:61 pm on 1 May, 2023',
      'yesterday',
      '',
    ]) {
      expect(parseLocomoDateTime(bad), bad).toBeNull();
    }
  });
});

describe('parseLongMemEvalDate', () => {
  it('reads "YYYY/MM/DD (Day) HH:MM" as UTC', () => {
    expect(parseLongMemEvalDate('2023/05/20 (Sat) 02:21')).toBe(Date.UTC(2023, 4, 20, 2, 21));
  });

  it('refuses other shapes and impossible dates', () => {
    for (const bad of [
      '2023-05-20 02:21',
      '2023/02/30 (Thu) 10:00',
      '2023/05/20 (Sat) 25:00',
      '2023/05/20',
    ]) {
      expect(parseLongMemEvalDate(bad), bad).toBeNull();
    }
  });
});

describe('parseEvidence', () => {
  it('splits combined entries, trims, dedupes, and reports malformed ids instead of guessing', () => {
    expect(parseEvidence(['D8:6; D9:17', 'D1:3', ' D1:3 ', 'D2:1,D2:2', 'D', 'D:11:26', ''])).toEqual({
      ids: ['D8:6', 'D9:17', 'D1:3', 'D2:1', 'D2:2'],
      malformed: ['D', 'D:11:26'],
    });
  });
});

describe('loadLocomo', () => {
  it('loads the mini file: sessions in order with their times, captions in the text', () => {
    const conversations = loadLocomo(LOCOMO_MINI);
    expect(conversations.map((c) => c.sampleId)).toEqual(['mini-1', 'mini-2']);
    const [first] = conversations;
    expect(first?.speakers).toEqual(['Alice', 'Bob']);
    // session_3_date_time has no session_3 (as in the real file): it is not a session.
    expect(first?.sessions.map((s) => [s.number, s.startMs])).toEqual([
      [1, Date.UTC(2023, 2, 3, 14, 30)],
      [2, Date.UTC(2023, 3, 14, 9, 5)],
    ]);
    expect(first?.sessions[0]?.turns[2]).toEqual({
      diaId: 'D1:3',
      speaker: 'Alice',
      content: 'Look at this from my trip. [image: a photo of a lighthouse on a rocky coast]',
    });
    expect(first?.qa[4]).toEqual({
      question: 'Which opera does Bob love?',
      answer: null,
      category: 5,
      evidence: ['D2:2'],
    });
    // A numeric answer (a year) becomes text.
    expect(first?.qa[7]?.answer).toBe('2022');
  });

  it('reads a .json.gz copy the same', () => {
    const gz = writeTmp('locomo-mini.json.gz', zlib.gzipSync(fs.readFileSync(LOCOMO_MINI)));
    expect(loadLocomo(gz)).toEqual(loadLocomo(LOCOMO_MINI));
  });

  it('fails with the file and the first bad field on a malformed file', () => {
    const badDate = locomoMini();
    badDate[0].conversation.session_2_date_time = 'sometime in April';
    expect(() => loadLocomo(writeTmp('bad-date.json', JSON.stringify(badDate)))).toThrow(
      /bad-date\.json: not a valid LoCoMo file: \[0\]\.conversation\.session_2_date_time: expected a session time like "1:56 pm on 8 May, 2023", got "sometime in April"/,
    );

    const badTurn = locomoMini();
    delete badTurn[1].conversation.session_1[2].text;
    expect(() => loadLocomo(writeTmp('bad-turn.json', JSON.stringify(badTurn)))).toThrow(
      /not a valid LoCoMo file: \[1\]\.conversation\.session_1\[2\]\.text: /,
    );

    const badQa = locomoMini();
    badQa[0].qa[3].evidence = 'D1:4';
    expect(() => loadLocomo(writeTmp('bad-qa.json', JSON.stringify(badQa)))).toThrow(
      /not a valid LoCoMo file: \[0\]\.qa\[3\]\.evidence: /,
    );

    expect(() => loadLocomo(writeTmp('object.json', '{"sample_id": "x"}'))).toThrow(
      /object\.json: not a valid LoCoMo file: Invalid input: expected array, received object/,
    );
    expect(() => loadLocomo(writeTmp('empty.json', '[]'))).toThrow(/expected at least one conversation/);
  });

  it('names missing, non-JSON and broken gzip files', () => {
    expect(() => loadLocomo(path.join(tmp, 'nope.json'))).toThrow(/nope\.json: no such file/);
    expect(() => loadLocomo(writeTmp('text.json', 'not json'))).toThrow(/text\.json: not valid JSON/);
    const truncated = zlib.gzipSync(Buffer.from('[]')).subarray(0, 12);
    expect(() => loadLocomo(writeTmp('cut.json.gz', truncated))).toThrow(
      /cut\.json\.gz: not a valid gzip file/,
    );
  });

  it.skipIf(skipWithoutData(LOCOMO_DEV, 'the LoCoMo dev-file loader test'))('loads the real dev file', () => {
    const conversations = loadLocomo(LOCOMO_DEV);
    expect(conversations.map((c) => c.sampleId)).toEqual([
      'conv-26',
      'conv-30',
      'conv-41',
      'conv-42',
      'conv-43',
    ]);
    expect(conversations.reduce((n, c) => n + c.qa.length, 0)).toBe(999);
    expect(conversations.reduce((n, c) => n + c.sessions.reduce((m, s) => m + s.turns.length, 0), 0)).toBe(
      2760,
    );
  });
});

describe('loadLongMemEval', () => {
  it('loads the mini file: sessions with dates, answer flags, abstention', () => {
    const questions = loadLongMemEval(LONGMEMEVAL_MINI);
    expect(questions.map((q) => [q.id, q.abstention])).toEqual([
      ['mini_q1', false],
      ['mini_q2', false],
      ['mini_q3_abs', true],
      ['mini_q4', false],
    ]);
    const [q1, q2] = questions;
    expect(q1?.askedAt).toBe('2023/06/01 (Thu) 10:00');
    expect(q1?.sessions[1]).toEqual({
      id: 'answer_q1',
      startMs: Date.UTC(2023, 4, 10, 18, 30),
      turns: [
        { role: 'user', content: 'The breed of my new puppy is corgi, any grooming tips?', hasAnswer: true },
        { role: 'assistant', content: 'Brush a corgi twice a week.', hasAnswer: false },
      ],
    });
    expect(q2?.answer).toBe('8');
    expect(q2?.answerSessionIds).toEqual(['answer_q2_a', 'answer_q2_b']);
  });

  it('reads a .json.gz copy the same', () => {
    const gz = writeTmp('lme-mini.json.gz', zlib.gzipSync(fs.readFileSync(LONGMEMEVAL_MINI)));
    expect(loadLongMemEval(gz)).toEqual(loadLongMemEval(LONGMEMEVAL_MINI));
  });

  it('fails with the file and the first bad field on a malformed file', () => {
    const badLength = longMemEvalMini();
    badLength[1].haystack_dates.pop();
    expect(() => loadLongMemEval(writeTmp('bad-length.json', JSON.stringify(badLength)))).toThrow(
      /bad-length\.json: not a valid LongMemEval file: \[1\]\.haystack_sessions: haystack_session_ids, haystack_dates and haystack_sessions must be the same length \(3, 2, 3\)/,
    );

    const badDate = longMemEvalMini();
    badDate[0].haystack_dates[2] = '2023-05-20';
    expect(() => loadLongMemEval(writeTmp('bad-date.json', JSON.stringify(badDate)))).toThrow(
      /\[0\]\.haystack_dates\[2\]: expected a date like "2023\/05\/20 \(Sat\) 02:21", got "2023-05-20"/,
    );

    const badRole = longMemEvalMini();
    badRole[3].haystack_sessions[1][0].role = 'system';
    expect(() => loadLongMemEval(writeTmp('bad-role.json', JSON.stringify(badRole)))).toThrow(
      /\[3\]\.haystack_sessions\[1\]\[0\]\.role: /,
    );

    // A LoCoMo file is not a LongMemEval file.
    expect(() => loadLongMemEval(LOCOMO_MINI)).toThrow(/not a valid LongMemEval file: \[0\]\.question_id: /);
  });

  it.skipIf(skipWithoutData(LONGMEMEVAL_DEV, 'the LongMemEval dev-file loader test'))(
    'loads the real dev file',
    () => {
      const questions = loadLongMemEval(LONGMEMEVAL_DEV);
      expect(questions).toHaveLength(100);
      expect(questions.filter((q) => q.abstention)).toHaveLength(8);
      expect(questions.reduce((n, q) => n + q.sessions.reduce((m, s) => m + s.turns.length, 0), 0)).toBe(
        49_580,
      );
    },
  );
});
