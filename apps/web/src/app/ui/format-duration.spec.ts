import { formatDuration } from './format-duration';

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
