import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['900', 900],
    ['15m', 900],
    ['15d', 1296000],
    ['2h', 7200],
    ['10s', 10],
    [' 30s ', 30],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'm', '15 m', '1.5h', '-5', '15w', '15mm', '0x10', '1e3'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});
