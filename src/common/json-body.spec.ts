import { hasExponentNumber } from './json-body';

describe('hasExponentNumber', () => {
  it.each(['{"amount":1e3}', '{"amount": 2.5E-1}', '[1E+2]', '{"a":"x","b":3e0}', '{"a":1.e5}'])(
    'finds the exponent in %s',
    (json) => {
      expect(hasExponentNumber(json)).toBe(true);
    },
  );

  it.each([
    '{"amount":"1e3"}',
    '{"amount":1000}',
    '{"ok":true,"no":false,"n":null}',
    '{"description":"paid 1e3 \\" then 2E5"}',
    '{"k\\\\":1.25}',
    '{"amount":12.50}',
    '',
  ])('finds none in %s', (json) => {
    expect(hasExponentNumber(json)).toBe(false);
  });
});
