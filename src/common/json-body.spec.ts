import { inspectJson, NumberText, parseKeepingLongFractions } from './json-body';

describe('inspectJson', () => {
  it.each(['{"amount":1e3}', '{"amount": 2.5E-1}', '[1E+2]', '{"a":"x","b":3e0}', '{"a":1.e5}'])(
    'finds the exponent in %s',
    (json) => {
      expect(inspectJson(json).exponent).toBe(true);
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
    expect(inspectJson(json).exponent).toBe(false);
  });

  it.each([
    '{"amount":5.00000000000000000001}',
    '{"amount":1.000}',
    '[0.125]',
    '{"a":{"b":[1,2.345]}}',
  ])('finds a number with more than two decimals in %s', (json) => {
    expect(inspectJson(json).longFraction).toBe(true);
  });

  it.each(['{"amount":12.34}', '{"amount":"1.000"}', '{"a":"5.00000001"}', '[1.5, 2.25, 100]'])(
    'finds none in %s',
    (json) => {
      expect(inspectJson(json).longFraction).toBe(false);
    },
  );

  it('measures nesting outside strings', () => {
    expect(inspectJson('{"a":{"b":[[1]]}}').depth).toBe(4);
    expect(inspectJson('{"a":"[[[[[[["}').depth).toBe(1);
    expect(inspectJson('['.repeat(10_000) + ']'.repeat(10_000)).depth).toBe(10_000);
  });
});

describe('parseKeepingLongFractions', () => {
  it('keeps the text of a number a double would round, and parses the rest as usual', () => {
    expect(
      parseKeepingLongFractions('{"amount":5.00000000000000000001,"n":[1.25,7],"s":"x"}'),
    ).toEqual({
      amount: new NumberText('5.00000000000000000001'),
      n: [1.25, 7],
      s: 'x',
    });
  });
});
