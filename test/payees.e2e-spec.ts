import { DataSource } from 'typeorm';
import { accountNumber } from '../src/accounts/account-number';
import { PruneService } from '../src/maintenance/prune.service';
import { TestApp, bearer } from './helpers/app';
import { Account, Banking, createClient, createCustomer, createTeller } from './helpers/banking';
import { expectFieldError, expectProblem } from './helpers/expect';
import { onServer } from './helpers/databases';
import { withTeller } from './helpers/fixture';

const VERIFY = '/api/v1/payees/verify';

describe('verification of payee: POST /api/v1/payees/verify', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  let bank: Banking;
  /** Held by Ada Lovelace, then Charles Babbage. */
  let joint: Account;
  /** Held by Zoë Ångström. */
  let zoe: Account;
  /** José María Núñez's, closed. */
  let closed: Account;
  /** A customer of another client, who holds none of these. */
  let customer: string;

  beforeAll(async () => {
    ({ t, admin, teller, bank } = await withTeller());
    const ada = await createClient(t, teller, { firstName: 'Ada', lastName: 'Lovelace' });
    const charles = await createClient(t, teller, { firstName: 'Charles', lastName: 'Babbage' });
    joint = await bank.open({ holderIds: [ada.id, charles.id], currency: 'EUR' });
    zoe = await bank.open({
      holderIds: [(await createClient(t, teller, { firstName: 'Zoë', lastName: 'Ångström' })).id],
      currency: 'SEK',
    });
    const jose = await createClient(t, teller, { firstName: 'José María', lastName: 'Núñez' });
    closed = await bank.open({ holderIds: [jose.id] });
    const res = await t.http.post(`/api/v1/accounts/${closed.id}/close`).set(bearer(teller));
    expect(res.status).toBe(200);
    const grace = await createClient(t, teller, { firstName: 'Grace', lastName: 'Hopper' });
    customer = await createCustomer(t, admin, grace.id);
  });
  afterAll(async () => {
    await t.close();
  });

  const verify = (body: object, token = teller) =>
    t.http.post(VERIFY).set(bearer(token)).send(body);

  /** A 200 answer, with exactly the contract's fields. */
  async function verified(body: { accountNumber: string; name: string }, token = teller) {
    const res = await verify(body, token);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'accountNumber',
      'currency',
      'result',
      'suggestedName',
    ]);
    expect(res.body.accountNumber).toBe(body.accountNumber);
    return res.body as { result: string; currency: string | null; suggestedName: string | null };
  }

  it('is match for the second holder of a joint account, with the currency and no suggested name', async () => {
    expect(await verified({ accountNumber: joint.number, name: 'Charles Babbage' })).toEqual({
      accountNumber: joint.number,
      result: 'match',
      currency: 'EUR',
      suggestedName: null,
    });
    expect(await verified({ accountNumber: joint.number, name: 'Ada Lovelace' })).toMatchObject({
      result: 'match',
    });
  });

  it.each(['zoe angstrom', 'ÅNGSTRÖM, Zoë', '  Zoe   Angstrom ', 'Ångström Zoë', 'Zoë-Ångström.'])(
    'is match whatever the case, accents, spacing, punctuation and order: %j',
    async (name) => {
      expect(await verified({ accountNumber: zoe.number, name })).toEqual({
        accountNumber: zoe.number,
        result: 'match',
        currency: 'SEK',
        suggestedName: null,
      });
    },
  );

  it.each([
    ['a typo', 'Charles Babage', 'Charles Babbage'],
    ['an initial for the first name', 'C. Babbage', 'Charles Babbage'],
    ['a typo in the other holder', 'Ada Lovelase', 'Ada Lovelace'],
  ])(
    'is close_match for %s, with the holder’s name as the bank has it',
    async (_, name, suggested) => {
      expect(await verified({ accountNumber: joint.number, name })).toEqual({
        accountNumber: joint.number,
        result: 'close_match',
        currency: 'EUR',
        suggestedName: suggested,
      });
    },
  );

  it('is close_match for a missing middle name', async () => {
    const jose = await createClient(t, teller, { firstName: 'José María', lastName: 'Núñez' });
    const open = await bank.open({ holderIds: [jose.id], currency: 'EUR' });
    expect(await verified({ accountNumber: open.number, name: 'Jose Nunez' })).toEqual({
      accountNumber: open.number,
      result: 'close_match',
      currency: 'EUR',
      suggestedName: 'José María Núñez',
    });
  });

  it.each(['Grace Hopper', 'Babbage', 'Ada Babbage', 'Lovelace A. Charles'])(
    'is no_match for another name, with neither currency nor name: %j',
    async (name) => {
      expect(await verified({ accountNumber: joint.number, name })).toEqual({
        accountNumber: joint.number,
        result: 'no_match',
        currency: null,
        suggestedName: null,
      });
    },
  );

  it('is not_possible for a valid number that names no account', async () => {
    const unknown = accountNumber(9999999999);
    expect(await verified({ accountNumber: unknown, name: 'Ada Lovelace' })).toEqual({
      accountNumber: unknown,
      result: 'not_possible',
      currency: null,
      suggestedName: null,
    });
  });

  it('is not_possible for a closed account, even with its holder’s exact name', async () => {
    expect(await verified({ accountNumber: closed.number, name: 'José María Núñez' })).toEqual({
      accountNumber: closed.number,
      result: 'not_possible',
      currency: null,
      suggestedName: null,
    });
  });

  it('refuses a number of the wrong length with 400 naming accountNumber', async () => {
    for (const number of [joint.number.slice(0, 10), `${joint.number}0`, '', 'abcdefghijk']) {
      expectFieldError(
        await verify({ accountNumber: number, name: 'Ada Lovelace' }),
        'accountNumber',
      );
    }
    expectFieldError(
      await verify({ accountNumber: Number(joint.number), name: 'Ada Lovelace' }),
      'accountNumber',
    );
  });

  it('refuses a number with a wrong check digit with 400 naming accountNumber', async () => {
    const wrong = `${joint.number.slice(0, 10)}${(Number(joint.number[10]) + 1) % 10}`;
    const res = await verify({ accountNumber: wrong, name: 'Ada Lovelace' });
    expectFieldError(res, 'accountNumber');
    expect(res.body.errors[0].message).toMatch(/check digit/);
  });

  it('refuses an unknown field, a missing or empty name, and a missing number with 400', async () => {
    const res = await verify({ accountNumber: joint.number, name: 'Ada Lovelace', iban: 'x' });
    expectProblem(res, 400, 'VALIDATION_FAILED', VERIFY);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'iban' })]),
    );
    expectFieldError(await verify({ accountNumber: joint.number }), 'name');
    expectFieldError(await verify({ accountNumber: joint.number, name: '   ' }), 'name');
    expectFieldError(await verify({ name: 'Ada Lovelace' }), 'accountNumber');
  });

  it('is 401 without a bearer token', async () => {
    const res = await t.http
      .post(VERIFY)
      .send({ accountNumber: joint.number, name: 'Ada Lovelace' });
    expectProblem(res, 401, 'UNAUTHENTICATED', VERIFY);
  });

  it('lets a customer verify an account it does not hold, seeing only what the contract gives', async () => {
    expect(
      await verified({ accountNumber: joint.number, name: 'Charles Babbage' }, customer),
    ).toEqual({
      accountNumber: joint.number,
      result: 'match',
      currency: 'EUR',
      suggestedName: null,
    });
    expect(await verified({ accountNumber: joint.number, name: 'Grace Hopper' }, customer)).toEqual(
      {
        accountNumber: joint.number,
        result: 'no_match',
        currency: null,
        suggestedName: null,
      },
    );
  });

  it('allows 30 verifications per user in an hour: the 31st is 429 with Retry-After, 400s do not count', async () => {
    const { token } = await createTeller(t, admin);
    const other = await createTeller(t, admin);
    for (let i = 0; i < 30; i++) {
      // A refused body between the verifications counts for nothing.
      expectFieldError(
        await verify({ accountNumber: '123', name: 'Ada Lovelace' }, token),
        'accountNumber',
      );
      const name = i % 2 === 0 ? 'Ada Lovelace' : 'Someone Else';
      const res = await verify({ accountNumber: joint.number, name }, token);
      expect(res.status).toBe(200);
    }
    const refused = await verify({ accountNumber: joint.number, name: 'Ada Lovelace' }, token);
    expectProblem(refused, 429, 'TOO_MANY_REQUESTS', VERIFY);
    const wait = Number(refused.headers['retry-after']);
    expect(Number.isInteger(wait)).toBe(true);
    expect(wait).toBeGreaterThan(3500);
    expect(wait).toBeLessThanOrEqual(3600);
    // An unknown number is refused as well: the limit is on verifications, not on accounts.
    const probe = await verify({ accountNumber: accountNumber(9999999998), name: 'X Y' }, token);
    expectProblem(probe, 429, 'TOO_MANY_REQUESTS', VERIFY);
    // A malformed one is still a 400: validation comes first and costs nothing.
    expectFieldError(
      await verify({ accountNumber: '123', name: 'Ada Lovelace' }, token),
      'accountNumber',
    );
    // The limit is the user's own.
    expect(
      (await verify({ accountNumber: joint.number, name: 'Ada Lovelace' }, other.token)).status,
    ).toBe(200);
  });

  it('counts parallel verifications exactly: of 31 at once, 30 answer and one is 429', async () => {
    const { token } = await createTeller(t, admin);
    const answers = await Promise.all(
      Array.from({ length: 31 }, () =>
        verify({ accountNumber: joint.number, name: 'Ada Lovelace' }, token),
      ),
    );
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([...Array<number>(30).fill(200), 429]);
  });

  (onServer ? it : it.skip)('counts the verifications of every instance together', async () => {
    const b = await TestApp.start({}, { database: t.database! });
    try {
      const { token } = await createTeller(t, admin);
      for (let i = 0; i < 30; i++) {
        const on = i % 2 === 0 ? t : b;
        const res = await on.http
          .post(VERIFY)
          .set(bearer(token))
          .send({ accountNumber: joint.number, name: 'Ada Lovelace' });
        expect(res.status).toBe(200);
      }
      for (const on of [t, b]) {
        const res = await on.http
          .post(VERIFY)
          .set(bearer(token))
          .send({ accountNumber: joint.number, name: 'Ada Lovelace' });
        expectProblem(res, 429, 'TOO_MANY_REQUESTS', VERIFY);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    } finally {
      await b.app.close();
    }
  });

  it('lets a user verify again once its oldest counted verification is an hour old; pruning removes those', async () => {
    const { id, token } = await createTeller(t, admin);
    const db = t.app.get(DataSource);
    await db.query(
      `INSERT INTO payee_verifications (user_id, created_at)
       SELECT $1::uuid, now() - interval '61 minutes' FROM generate_series(1, 5)
       UNION ALL SELECT $1::uuid, now() - interval '10 minutes' FROM generate_series(1, 29)`,
      [id],
    );
    expect(
      (await verify({ accountNumber: joint.number, name: 'Ada Lovelace' }, token)).status,
    ).toBe(200);
    expect(
      (await verify({ accountNumber: joint.number, name: 'Ada Lovelace' }, token)).status,
    ).toBe(429);
    const removed = await t.app.get(PruneService).run();
    expect(removed.payee_verifications).toBeGreaterThanOrEqual(5);
    const [{ count }] = await db.query<Array<{ count: string }>>(
      `SELECT count(*) FROM payee_verifications WHERE user_id = $1`,
      [id],
    );
    expect(Number(count)).toBe(30);
  });
});
