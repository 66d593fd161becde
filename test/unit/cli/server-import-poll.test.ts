/** The poll schedule of `import --server-side` (pure). */
import { MIN_POLL_MS, nextPollMs } from '../../../cli/server-import';

describe('server-side import poll schedule', () => {
  it('polls at the interval until pieces are done, and once all are', () => {
    expect(nextPollMs({}, 5000, 1000)).toBe(1000);
    expect(nextPollMs({ pieces: 10, pieces_done: 0 }, 5000, 1000)).toBe(1000);
    expect(nextPollMs({ pieces: 10, pieces_done: 10 }, 5000, 1000)).toBe(1000);
  });

  it('waits half the time the import looks to need still, within the interval and the floor', () => {
    // 2 of 10 pieces in 4 s: 16 s to go, so the interval.
    expect(nextPollMs({ pieces: 10, pieces_done: 2 }, 4000, 1000)).toBe(1000);
    // 9 of 10 in 9 s: 1 s to go, so 500 ms.
    expect(nextPollMs({ pieces: 10, pieces_done: 9 }, 9000, 1000)).toBe(500);
    // 99 of 100 in 9.9 s: 100 ms to go, so the floor.
    expect(nextPollMs({ pieces: 100, pieces_done: 99 }, 9900, 1000)).toBe(MIN_POLL_MS);
  });

  it('follows an import to within about a tenth of a second of its end', () => {
    // An import of 50 pieces at one piece every 200 ms (10 s), polled from its start.
    const endMs = 10_000;
    let at = 0;
    let polls = 0;
    for (;;) {
      const done = Math.min(50, Math.floor(at / 200));
      if (done === 50) break;
      at += nextPollMs({ pieces: 50, pieces_done: done }, at, 1000);
      polls++;
    }
    expect(at - endMs).toBeLessThanOrEqual(MIN_POLL_MS);
    // About one poll a second until the last second, then a few more.
    expect(polls).toBeLessThanOrEqual(16);
  });
});
