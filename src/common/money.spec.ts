import { formatMoney, parseMoney } from './money';

describe('parseMoney', () => {
  it.each([
    ['12.50', 1250n],
    ['12.5', 1250n],
    ['12', 1200n],
    ['0.01', 1n],
    ['0.1', 10n],
    ['9999999999999.99', 999999999999999n],
    ['1000000000000', 100000000000000n],
    ['007.10', 710n],
  ])('reads the string %j as %d cents', (text, cents) => {
    expect(parseMoney(text)).toBe(cents);
  });

  it.each([
    [12.5, 1250n],
    [12.25, 1225n],
    [100, 10000n],
    [0.1, 10n],
    [0.07, 7n],
    [1.15, 115n],
    [9999999999999.99, 999999999999999n],
  ])('reads the JSON number %d exactly as %d cents', (value, cents) => {
    expect(parseMoney(value)).toBe(cents);
  });

  it('adds exactly: 0.1 + 0.2 is 0.30', () => {
    expect(formatMoney(parseMoney('0.1')! + parseMoney('0.2')!)).toBe('0.30');
    expect(formatMoney(parseMoney(0.1)! + parseMoney(0.2)!)).toBe('0.30');
  });

  it('refuses the float 0.1 + 0.2 itself, which has more than two decimals', () => {
    expect(parseMoney(0.1 + 0.2)).toBeNull();
  });

  it.each([
    '.5',
    '5.',
    '+5',
    ' 5',
    '5 ',
    '1e3',
    '1E3',
    '-0',
    '-5',
    '0',
    '0.00',
    '1.234',
    '12345678901234',
    '12345678901234.00',
    'NaN',
    'Infinity',
    '',
    '1,50',
    '0x10',
    '１２',
    '5.0.0',
  ])('refuses the string %j', (text) => {
    expect(parseMoney(text)).toBeNull();
  });

  it.each([0, -0, -5, 1.234, 0.001, NaN, Infinity, -Infinity, 1e21, 12345678901234, 1e-7])(
    'refuses the JSON number %d',
    (value) => {
      expect(parseMoney(value)).toBeNull();
    },
  );

  it.each([null, undefined, true, {}, [], 10n])('refuses the non-amount %p', (value) => {
    expect(parseMoney(value)).toBeNull();
  });

  it('accepts zero only when asked (an overdraft limit may be 0)', () => {
    expect(parseMoney('0', { allowZero: true })).toBe(0n);
    expect(parseMoney(0, { allowZero: true })).toBe(0n);
    expect(parseMoney('0.00', { allowZero: true })).toBe(0n);
    expect(parseMoney(-0, { allowZero: true })).toBe(0n);
    expect(parseMoney('-0', { allowZero: true })).toBeNull();
  });
});

describe('formatMoney', () => {
  it.each([
    [0n, '0.00'],
    [1n, '0.01'],
    [10n, '0.10'],
    [125000n, '1250.00'],
    [-305n, '-3.05'],
    [-5n, '-0.05'],
    [999999999999999n, '9999999999999.99'],
    [123456789012345678n, '1234567890123456.78'],
  ])('prints %d cents as %j', (cents, text) => {
    expect(formatMoney(cents)).toBe(text);
  });

  it('round-trips every parsed amount', () => {
    for (const text of ['0.01', '12.50', '9999999999999.99', '100.00']) {
      expect(formatMoney(parseMoney(text)!)).toBe(text);
    }
  });
});
