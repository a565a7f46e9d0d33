import { LOGIN_THROTTLE, PASSWORD_THROTTLE, retryAfterSeconds } from './throttle-window';

const now = new Date('2026-01-01T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe('retryAfterSeconds', () => {
  it('lets the attempt through when no limit is reached', () => {
    expect(retryAfterSeconds([null, null, null], now)).toBe(0);
  });

  it('waits until the limiting failure leaves the 15-minute window', () => {
    expect(retryAfterSeconds([ago(60), null, null], now)).toBe(LOGIN_THROTTLE.windowSeconds - 60);
  });

  it('rounds a partial second up, so a retry at the announced time succeeds', () => {
    expect(retryAfterSeconds([new Date(now.getTime() - 60_500)], now)).toBe(840);
  });

  it('takes the longest wait of all scopes', () => {
    expect(retryAfterSeconds([ago(800), ago(100), ago(500)], now)).toBe(800);
  });

  it('ignores a failure that has already left the window', () => {
    expect(retryAfterSeconds([ago(LOGIN_THROTTLE.windowSeconds + 1)], now)).toBe(0);
  });

  it('has the contract limits', () => {
    expect(LOGIN_THROTTLE).toEqual({
      windowSeconds: 900,
      perUsernameAndAddress: 5,
      perAddress: 20,
      perUsername: 50,
      knownAddressSeconds: 30 * 24 * 3600,
    });
  });

  it('keeps the password-change rule: 5 per user from any addresses, known or not', () => {
    expect(PASSWORD_THROTTLE).toEqual({
      ...LOGIN_THROTTLE,
      perUsername: 5,
      knownAddressSeconds: 0,
    });
  });
});
