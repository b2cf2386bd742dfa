import { formatClock, formatDuration } from './format-duration';

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [1.2, '2 s'],
    [59, '59 s'],
    [60, '1 min 00 s'],
    [299, '4 min 59 s'],
    [3600, '1 h 00 min'],
    [7805, '2 h 10 min'],
  ])('%d seconds read as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('never shows a negative wait', () => {
    expect(formatDuration(-5)).toBe('0 s');
  });
});

describe('formatClock', () => {
  it.each([
    [0, '0:00'],
    [7_400, '0:07'],
    [765_000, '12:45'],
    [3_723_000, '1:02:03'],
  ])('%d ms read as %s', (ms, text) => {
    expect(formatClock(ms)).toBe(text);
  });
});
