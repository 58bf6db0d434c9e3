import { describe, expect, it } from 'vitest';
import { CubeWarmer } from '../../src/os/cube-warmer.js';

/** A warm-up that runs until `finish` is called, recording that it started and how it ended. */
function controlled(log: string[], name: string) {
  let finish = () => {};
  const warm = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      log.push(`start ${name}`);
      let settled = false;
      finish = () => {
        if (settled) return;
        settled = true;
        log.push(`${signal.aborted ? 'stopped' : 'done'} ${name}`);
        resolve();
      };
      signal.addEventListener('abort', () => finish());
    });
  return { warm, finish: () => finish() };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CubeWarmer', () => {
  it('warms each key once, one at a time, in the order asked', async () => {
    const log: string[] = [];
    const warmer = new CubeWarmer(() => {});
    const a = controlled(log, 'a');
    const b = controlled(log, 'b');
    warmer.schedule('a', a.warm);
    warmer.schedule('b', b.warm);
    warmer.schedule('a', controlled(log, 'a again').warm);
    await tick();
    expect(log).toEqual(['start a']);
    a.finish();
    await tick();
    expect(log).toEqual(['start a', 'done a', 'start b']);
    b.finish();
    await warmer.close();
    expect(log).toEqual(['start a', 'done a', 'start b', 'done b']);
  });

  it('on close, stops the running warm-up, skips the queued ones and takes no more', async () => {
    const log: string[] = [];
    const warmer = new CubeWarmer(() => {});
    warmer.schedule('a', controlled(log, 'a').warm);
    warmer.schedule('b', controlled(log, 'b').warm);
    await tick();
    await warmer.close();
    warmer.schedule('c', controlled(log, 'c').warm);
    await tick();
    expect(log).toEqual(['start a', 'stopped a']);
  });

  it('reports a failure with its key and goes on with the next cube', async () => {
    const failures: string[] = [];
    const warmer = new CubeWarmer((key, error) => failures.push(`${key}: ${(error as Error).message}`));
    const log: string[] = [];
    const b = controlled(log, 'b');
    warmer.schedule('a', async () => {
      throw new Error('embedder down');
    });
    warmer.schedule('b', b.warm);
    await tick();
    await tick();
    expect(failures).toEqual(['a: embedder down']);
    expect(log).toEqual(['start b']);
    b.finish();
    await warmer.close();
    expect(log).toEqual(['start b', 'done b']);
  });

  it('tries a failed cube again only once its back-off has passed, doubling it each time', async () => {
    let now = 0;
    const waits: number[] = [];
    const warmer = new CubeWarmer((_key, _error, retryInMs) => waits.push(retryInMs), { now: () => now });
    let tries = 0;
    let down = true;
    const warm = async () => {
      tries++;
      if (down) throw new Error('embedder down');
    };
    warmer.schedule('a', warm);
    await tick();
    expect([tries, waits]).toEqual([1, [60_000]]);
    // Opened again within the minute: not tried.
    now = 59_999;
    warmer.schedule('a', warm);
    await tick();
    expect(tries).toBe(1);
    now = 60_000;
    warmer.schedule('a', warm);
    await tick();
    expect([tries, waits]).toEqual([2, [60_000, 120_000]]);
    now = 60_000 + 119_999;
    warmer.schedule('a', warm);
    await tick();
    expect(tries).toBe(2);
    // The embedder is back: the next try warms the cube, and it is never warmed again.
    down = false;
    now = 180_000;
    warmer.schedule('a', warm);
    await tick();
    now = 10_000_000;
    warmer.schedule('a', warm);
    await tick();
    expect([tries, waits]).toEqual([3, [60_000, 120_000]]);
    await warmer.close();
  });

  it('waits at most an hour between tries', async () => {
    let now = 0;
    const waits: number[] = [];
    const warmer = new CubeWarmer((_key, _error, retryInMs) => waits.push(retryInMs), { now: () => now });
    for (let i = 0; i < 9; i++) {
      warmer.schedule('a', async () => {
        throw new Error('down');
      });
      await tick();
      now += 3_600_000;
    }
    expect(waits.slice(-4)).toEqual([1_920_000, 3_600_000, 3_600_000, 3_600_000]);
    await warmer.close();
  });
});
