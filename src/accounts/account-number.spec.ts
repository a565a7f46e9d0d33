import { accountNumber, luhnCheckDigit } from './account-number';

/** What a teller's screen checks before any lookup: 11 digits whose last is the Luhn digit. */
const isValidAccountNumber = (number: string) =>
  /^\d{11}$/.test(number) && luhnCheckDigit(number.slice(0, 10)) === Number(number[10]);

describe('account numbers', () => {
  it('append the Luhn digit (known vector 7992739871 -> 3)', () => {
    expect(luhnCheckDigit('7992739871')).toBe(3);
    expect(accountNumber('7992739871')).toBe('79927398713');
  });

  it('are 11 digits, zero-padded', () => {
    expect(accountNumber(1000000001)).toMatch(/^\d{11}$/);
    expect(accountNumber(42)).toMatch(/^0000000042\d$/);
  });

  it('validate what they generate', () => {
    for (let serial = 1000000001; serial < 1000000201; serial++) {
      expect(isValidAccountNumber(accountNumber(serial))).toBe(true);
    }
  });

  it('catch every single mistyped digit', () => {
    const number = accountNumber(1000000123);
    for (let i = 0; i < number.length; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === number[i]) continue;
        const typo = number.slice(0, i) + String(d) + number.slice(i + 1);
        expect(isValidAccountNumber(typo)).toBe(false);
      }
    }
  });

  it('catch swapped neighbours (other than 0 and 9)', () => {
    const number = accountNumber(1234567890);
    for (let i = 0; i < number.length - 1; i++) {
      const [a, b] = [number[i], number[i + 1]];
      if (a === b || `${a}${b}` === '09' || `${a}${b}` === '90') continue;
      const swapped = number.slice(0, i) + b + a + number.slice(i + 2);
      expect(isValidAccountNumber(swapped)).toBe(false);
    }
  });

  it('refuse malformed numbers', () => {
    expect(isValidAccountNumber('123')).toBe(false);
    expect(isValidAccountNumber('abcdefghijk')).toBe(false);
    expect(() => accountNumber(12345678901)).toThrow();
  });
});
