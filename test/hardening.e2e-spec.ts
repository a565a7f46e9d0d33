/**
 * What a security review found, each as the reviewer tried it: the login
 * throttle under parallel guesses and look-alike usernames, inputs that
 * reached a 500 (NUL characters, deep nesting, huge page numbers), amounts
 * whose digits a double would round, and password guesses with a stolen
 * access token.
 */
import { TestApp, USER_PASSWORD, bearer, freshAddress } from './helpers/app';
import { banking, unique, uniqueName } from './helpers/banking';
import { expectFieldError, expectProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';

describe('security hardening', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;

  beforeAll(async () => {
    ({ t, admin, teller } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  const login = (username: string, password: string, address: string) =>
    t.http.post('/api/v1/auth/login').set('X-Forwarded-For', address).send({ username, password });
  const statuses = (responses: Array<{ status: number }>) =>
    responses.reduce<Record<number, number>>(
      (n, r) => ({ ...n, [r.status]: (n[r.status] ?? 0) + 1 }),
      {},
    );

  describe('login throttle', () => {
    it('thirty parallel wrong passwords for one username: five are evaluated, the rest 429', async () => {
      const username = uniqueName('race');
      await t.createUser(admin, { username, role: 'teller' });
      const address = freshAddress();
      const answers = await Promise.all(
        Array.from({ length: 30 }, () => login(username, 'wrong-password-123', address)),
      );
      expect(statuses(answers)).toEqual({ 401: 5, 429: 25 });
      expect((await login(username, USER_PASSWORD, address)).status).toBe(429);
    });

    it('forty parallel attempts at different usernames from one address: twenty are evaluated', async () => {
      const address = freshAddress();
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          login(`nobody-${i}-${address}`, 'wrong-password-123', address),
        ),
      );
      expect(statuses(answers)).toEqual({ 401: 20, 429: 20 });
    });

    it('a look-alike spelling is another name: it neither dodges the lock nor logs in', async () => {
      const username = `vic-iii-${unique('u').toLowerCase()}`;
      await t.createUser(admin, { username, role: 'teller' });
      const address = freshAddress();
      for (let i = 0; i < 5; i++)
        expect((await login(username, 'wrong-password-123', address)).status).toBe(401);
      // Other letter cases and compatibility forms are the same name, and locked with it.
      expect((await login(username.toUpperCase(), USER_PASSWORD, address)).status).toBe(429);
      const fullwidth = [...username]
        .map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0))
        .join('');
      expect((await login(fullwidth, USER_PASSWORD, address)).status).toBe(429);
      // A dotted capital I (U+0130) is not an i: no account has that name.
      const dotted = username.replace('vic-iii', 'vic-\u0130ii');
      const tries = [];
      for (let i = 0; i < 6; i++) tries.push((await login(dotted, USER_PASSWORD, address)).status);
      expect(tries).toEqual([401, 401, 401, 401, 401, 429]);
      // From elsewhere, the right password still works for the real name.
      expect((await login(username, USER_PASSWORD, freshAddress())).status).toBe(200);
    });

    it('a success does not clear earlier failures, nor count as one', async () => {
      const username = uniqueName('ok');
      await t.createUser(admin, { username, role: 'teller' });
      const address = freshAddress();
      for (let i = 0; i < 4; i++)
        expect((await login(username, 'wrong-password-123', address)).status).toBe(401);
      for (let i = 0; i < 3; i++)
        expect((await login(username, USER_PASSWORD, address)).status).toBe(200);
      expect((await login(username, 'wrong-password-123', address)).status).toBe(401);
      expect((await login(username, USER_PASSWORD, address)).status).toBe(429);
    });
  });

  it('guesses of the current password with an access token are throttled', async () => {
    const username = uniqueName('pw');
    await t.createUser(admin, { username, role: 'teller' });
    const token = (await t.login(username, USER_PASSWORD)).accessToken;
    const change = (currentPassword: string) =>
      t.http
        .post('/api/v1/auth/password')
        .set(bearer(token))
        .set('X-Forwarded-For', freshAddress())
        .send({ currentPassword, newPassword: 'a-brand-new-password' });
    for (let i = 0; i < 5; i++)
      expectProblem(await change(`guess-number-${i}`), 403, 'WRONG_PASSWORD');
    const blocked = await change(USER_PASSWORD);
    expectProblem(blocked, 429, 'TOO_MANY_REQUESTS');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.login(username, USER_PASSWORD)).accessToken).toEqual(expect.any(String));
  });

  describe('inputs that reached a 500', () => {
    it('a NUL character anywhere is 400 naming the field, with no login and with one', async () => {
      const nul = 'a\u0000b';
      expectFieldError(await login(nul, 'some-password-123', freshAddress()), 'username');
      const simple = await t.http
        .post('/api/token/')
        .send({ username: nul, password: 'x-password-123' });
      expect(simple.status).toBe(400);
      expect(simple.body).toEqual({ username: [expect.any(String)] });
      expectFieldError(
        await t.http
          .post('/api/v1/clients')
          .set(bearer(teller))
          .send({ nationalId: 'N1', firstName: nul, lastName: 'L' }),
        'firstName',
      );
      expectFieldError(
        await t.http.get('/api/v1/clients?lastName=a%00').set(bearer(teller)),
        'lastName',
      );
      expectFieldError(await t.http.get('/api/v1/clients?q=%00').set(bearer(teller)), 'q');
      const bank = banking(t, teller);
      const account = await bank.open();
      expectFieldError(
        await bank.deposit(account.id, { amount: '1.00', description: `x${nul}` }),
        'description',
      );
      expect(await bank.balance(account.id)).toBe('0.00');
    });

    it('a body nested 10,000 deep is 400, with no login needed', async () => {
      const deep = `{"username":${'['.repeat(10_000)}${']'.repeat(10_000)},"password":"x"}`;
      const res = await t.http
        .post('/api/v1/auth/login')
        .set('Content-Type', 'application/json')
        .send(deep);
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });

    it('a huge page number is 400', async () => {
      for (const page of ['1e300', '99999999999999999999']) {
        expectFieldError(
          await t.http.get(`/api/v1/clients?page=${page}`).set(bearer(teller)),
          'page',
        );
      }
    });
  });

  it('an amount with more than two decimals is 400 however it is written, and moves nothing', async () => {
    const bank = banking(t, teller);
    const account = await bank.open({ funding: '10.00' });
    for (const amount of ['5.00000000000000000001', '1.000', '0.001', '12.340']) {
      const res = await t.http
        .post(`/api/v1/accounts/${account.id}/deposits`)
        .set(bearer(teller))
        .set('Content-Type', 'application/json')
        .send(`{"amount": ${amount}}`);
      expectFieldError(res, 'amount');
    }
    expect(await bank.balance(account.id)).toBe('10.00');
    const exact = await t.http
      .post(`/api/v1/accounts/${account.id}/deposits`)
      .set(bearer(teller))
      .set('Content-Type', 'application/json')
      .send('{"amount": 12.34}');
    expect(exact.status).toBe(201);
    expect(exact.body.amount).toBe('12.34');
  });

  it('national ids are unique whatever their letter case', async () => {
    const id = unique('nid');
    const first = await t.http
      .post('/api/v1/clients')
      .set(bearer(teller))
      .send({ nationalId: id.toUpperCase(), firstName: 'A', lastName: 'B' });
    expect(first.status).toBe(201);
    const second = await t.http
      .post('/api/v1/clients')
      .set(bearer(teller))
      .send({ nationalId: id.toLowerCase(), firstName: 'C', lastName: 'D' });
    expectProblem(second, 409, 'CONFLICT');
  });
});
