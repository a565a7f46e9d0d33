import { VerifiedTokens } from './verified-tokens';

describe('VerifiedTokens', () => {
  const later = () => ({
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 60,
  });

  afterEach(() => jest.restoreAllMocks());

  it('finds an exact copy of a remembered token only', () => {
    const tokens = new VerifiedTokens(900);
    const claims = tokens.add('a.b.c', later());
    expect(tokens.get(`${'a.b.'}c`)).toBe(claims);
    expect(tokens.get('a.b.C')).toBeUndefined();
    expect(tokens.get('a.b.c ')).toBeUndefined();
  });

  it('forgets a token once its exp has passed', () => {
    const tokens = new VerifiedTokens(900);
    const { exp } = tokens.add('t', later());
    jest.spyOn(Date, 'now').mockReturnValue(exp * 1000);
    expect(tokens.get('t')).toBeUndefined();
  });

  it('forgets a token once it is maxAgeSeconds old by its iat, whatever its exp says', () => {
    const tokens = new VerifiedTokens(900);
    const { iat } = tokens.add('t', { iat: 1_000_000, exp: 1_000_000 + 10 * 365 * 24 * 3600 });
    jest.spyOn(Date, 'now').mockReturnValue((iat + 900) * 1000 - 1);
    expect(tokens.get('t')).toBeDefined();
    jest.spyOn(Date, 'now').mockReturnValue((iat + 900) * 1000);
    expect(tokens.get('t')).toBeUndefined();
  });

  it('keeps at most its size, dropping the oldest first', () => {
    const tokens = new VerifiedTokens(900, 2);
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
    const claims = new VerifiedTokens(900).add('t', later());
    expect(Object.isFrozen(claims)).toBe(true);
  });
});
