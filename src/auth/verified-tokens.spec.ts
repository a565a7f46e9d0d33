import { VerifiedTokens } from './verified-tokens';

describe('VerifiedTokens', () => {
  const later = () => ({ exp: Math.floor(Date.now() / 1000) + 60 });

  afterEach(() => jest.restoreAllMocks());

  it('finds an exact copy of a remembered token only', () => {
    const tokens = new VerifiedTokens();
    const claims = tokens.add('a.b.c', later());
    expect(tokens.get(`${'a.b.'}c`)).toBe(claims);
    expect(tokens.get('a.b.C')).toBeUndefined();
    expect(tokens.get('a.b.c ')).toBeUndefined();
  });

  it('forgets a token once its exp has passed', () => {
    const tokens = new VerifiedTokens();
    const { exp } = tokens.add('t', later());
    jest.spyOn(Date, 'now').mockReturnValue(exp * 1000);
    expect(tokens.get('t')).toBeUndefined();
  });

  it('keeps at most its size, dropping the oldest first', () => {
    const tokens = new VerifiedTokens(2);
    tokens.add('first', later());
    tokens.add('second', later());
    tokens.add('third', later());
    expect(['first', 'second', 'third'].map((t) => tokens.get(t) !== undefined)).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('hands out claims nobody can change', () => {
    const claims = new VerifiedTokens().add('t', later());
    expect(Object.isFrozen(claims)).toBe(true);
  });
});
