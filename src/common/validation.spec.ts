import { nulAt } from './validation';

describe('nulAt', () => {
  it('names the first string holding U+0000 by its path', () => {
    expect(nulAt('a\u0000')).toBe('');
    expect(nulAt({ username: 'a\u0000', password: 'x' })).toBe('username');
    expect(nulAt({ holders: [{ id: 'x' }, { id: 'y', note: '\u0000' }] })).toBe('holders[1].note');
    expect(nulAt([['ok', 'n\u0000']])).toBe('[0][1]');
    expect(nulAt({ ['k\u0000']: 1 })).toBe('k\u0000');
  });

  it('is null for values without one, numbers and nulls included', () => {
    expect(
      nulAt({ amount: 5, description: null, tags: ['a', 'b'], nested: { x: 'y' } }),
    ).toBeNull();
    expect(nulAt(undefined)).toBeNull();
  });
});
