import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from './helpers/app';
import {
  Account,
  Banking,
  Holder,
  createAccount,
  createClient,
  createCustomer,
  unique,
} from './helpers/banking';
import { ISO_UTC, UUID, expectFieldError, expectProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';

const ACCOUNT_KEYS = [
  'balance',
  'closedAt',
  'currency',
  'holders',
  'id',
  'number',
  'openedAt',
  'overdraftLimit',
  'status',
];

/** The Luhn rule, computed here independently of the application. */
function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function expectAccount(value: object, expected: Partial<Account> = {}): void {
  const body = value as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(ACCOUNT_KEYS);
  expect(body.id).toMatch(UUID);
  expect(body.number).toMatch(/^\d{11}$/);
  expect(luhnValid(body.number as string)).toBe(true);
  expect(body.openedAt).toMatch(ISO_UTC);
  expect(body.balance).toMatch(/^-?\d+\.\d{2}$/);
  expect(body.overdraftLimit).toMatch(/^\d+\.\d{2}$/);
  expect(['active', 'frozen', 'closed']).toContain(body.status);
  for (const holder of body.holders as Array<Record<string, unknown>>) {
    expect(Object.keys(holder).sort()).toEqual(['firstName', 'id', 'lastName']);
  }
  expect(body).toEqual(expect.objectContaining(expected));
}

describe('luhnValid (the test helper itself)', () => {
  it('accepts known-good numbers and refuses a changed digit', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(luhnValid('4539578763621486')).toBe(true);
  });
});

describe('accounts', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;
  /** The teller's money routes. */
  let bank: Banking;

  beforeAll(async () => {
    ({ t, admin, teller, bank } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  async function newClient(firstName = 'Ada', lastName = 'Lovelace'): Promise<Holder> {
    const client = await createClient(t, teller, { firstName, lastName });
    return { id: client.id, firstName, lastName };
  }
  /** POST /api/v1/accounts, whatever it answers (bank.open expects a 201). */
  const open = (body: object, token = teller) =>
    t.http.post('/api/v1/accounts').set(bearer(token)).send(body);
  const getAccount = (id: string, token = teller) =>
    t.http.get(`/api/v1/accounts/${id}`).set(bearer(token));
  const patch = (id: string, body: object, token = teller) =>
    t.http.patch(`/api/v1/accounts/${id}`).set(bearer(token)).send(body);
  const close = (id: string, token = teller) =>
    t.http.post(`/api/v1/accounts/${id}/close`).set(bearer(token));
  async function heldCount(clientId: string): Promise<number> {
    const res = await t.http
      .get(`/api/v1/accounts?holderId=${clientId}&limit=100`)
      .set(bearer(teller));
    expect(res.status).toBe(200);
    return res.body.total;
  }
  const newCustomer = (clientId: string) => createCustomer(t, admin, clientId);

  describe('POST /api/v1/accounts', () => {
    it('opens an account for one holder: 201, balance 0.00, EUR, a Luhn-checked number', async () => {
      const holder = await newClient();
      const res = await open({ holderIds: [holder.id] });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expectAccount(res.body, {
        currency: 'EUR',
        balance: '0.00',
        overdraftLimit: '0.00',
        status: 'active',
        holders: [holder],
        closedAt: null,
      });
      expect(Math.abs(Date.now() - Date.parse(res.body.openedAt))).toBeLessThan(5 * 60 * 1000);

      const read = await getAccount(res.body.id);
      expect(read.status).toBe(200);
      expect(read.headers['cache-control']).toBe('no-store');
      expect(read.body).toEqual(res.body);
    });

    it('takes holder ids in any letter case, and one client twice in two cases is 400', async () => {
      const holder = await newClient();
      const upper = await open({ holderIds: [holder.id.toUpperCase()] });
      expect(upper.status).toBe(201);
      expect(upper.body.holders.map((h: { id: string }) => h.id)).toEqual([holder.id]);
      const before = await heldCount(holder.id);
      const twice = await open({ holderIds: [holder.id, holder.id.toUpperCase()] });
      expectProblem(twice, 400, 'VALIDATION_FAILED');
      expect(await heldCount(holder.id)).toBe(before);
    });

    it('opens a joint account for two holders', async () => {
      const first = await newClient('Ada', 'Lovelace');
      const second = await newClient('Charles', 'Babbage');
      const res = await open({ holderIds: [first.id, second.id] });
      expect(res.status).toBe(201);
      expectAccount(res.body, { balance: '0.00', currency: 'EUR', status: 'active' });
      expect(res.body.holders).toEqual([first, second]);
      expect((await getAccount(res.body.id)).body.holders).toEqual([first, second]);
    });

    it('keeps the holders of a joint account in the order they were given', async () => {
      const clients = [];
      for (const name of ['Ada', 'Bea', 'Cy', 'Di', 'Ed'])
        clients.push(await newClient(name, 'Holder'));
      // Random ids: a sort by id would put them in this order only once in 120.
      for (const order of [clients, [...clients].reverse()]) {
        const res = await open({ holderIds: order.map((c) => c.id) });
        expect(res.status).toBe(201);
        expect(res.body.holders).toEqual(order);
        expect((await getAccount(res.body.id)).body.holders).toEqual(order);
      }
    });

    it('numbers are unique, 11 digits, with a valid check digit', async () => {
      const holder = await newClient();
      const numbers: string[] = [];
      for (let i = 0; i < 6; i += 1) {
        const account = await bank.open({ holderIds: [holder.id] });
        expect(account.number).toMatch(/^\d{11}$/);
        expect(luhnValid(account.number)).toBe(true);
        numbers.push(account.number);
      }
      expect(new Set(numbers).size).toBe(numbers.length);
    });

    it('an explicit currency is kept', async () => {
      const holder = await newClient();
      const res = await open({ holderIds: [holder.id], currency: 'USD' });
      expect(res.status).toBe(201);
      expect(res.body.currency).toBe('USD');
    });

    it('an unknown holder is 400 and opens nothing', async () => {
      const holder = await newClient();
      expectFieldError(await open({ holderIds: [randomUUID()] }), 'holderIds');
      expectFieldError(await open({ holderIds: [holder.id, randomUUID()] }), 'holderIds');
      expect(await heldCount(holder.id)).toBe(0);
    });

    it.each([
      ['no holders', { holderIds: [] }],
      ['a malformed holder id', { holderIds: ['client-1'] }],
      ['holderIds missing', {}],
      ['holderIds not an array', { holderIds: 'abc' }],
    ])('%s is 400', async (_label, body) => {
      expectFieldError(await open(body), 'holderIds');
    });

    it.each(['EURO', 'ZZZ', 'E1R', '', 978])('currency %p is 400', async (currency) => {
      const holder = await newClient();
      expectFieldError(await open({ holderIds: [holder.id], currency }), 'currency');
      expect(await heldCount(holder.id)).toBe(0);
    });

    it.each(['500.00', '500', 500])(
      'overdraftLimit %p is accepted and shown "500.00"',
      async (limit) => {
        const holder = await newClient();
        const res = await open({ holderIds: [holder.id], overdraftLimit: limit });
        expect(res.status).toBe(201);
        expect(res.body.overdraftLimit).toBe('500.00');
        expect((await getAccount(res.body.id)).body.overdraftLimit).toBe('500.00');
      },
    );

    it.each(['-1', '1.234', 'abc', '1e3', null])('overdraftLimit %p is 400', async (limit) => {
      const holder = await newClient();
      expectFieldError(
        await open({ holderIds: [holder.id], overdraftLimit: limit }),
        'overdraftLimit',
      );
      expect(await heldCount(holder.id)).toBe(0);
    });

    it('a balance in the body is 400 and opens nothing', async () => {
      const holder = await newClient();
      const res = await open({ holderIds: [holder.id], balance: '1000000.00' });
      expectFieldError(res, 'balance');
      expect(await heldCount(holder.id)).toBe(0);
    });
  });

  describe('PATCH /api/v1/accounts/:id', () => {
    it('freezes and unfreezes', async () => {
      const account = await bank.open({ holderIds: [(await newClient()).id] });
      const frozen = await patch(account.id, { status: 'frozen' });
      expect(frozen.status).toBe(200);
      expectAccount(frozen.body, { id: account.id, status: 'frozen', balance: '0.00' });
      expect((await getAccount(account.id)).body.status).toBe('frozen');

      const active = await patch(account.id, { status: 'active' });
      expect(active.status).toBe(200);
      expectAccount(active.body, { id: account.id, status: 'active' });
      expect((await getAccount(account.id)).body.status).toBe('active');
    });

    it('changes the overdraft limit', async () => {
      const account = await bank.open({ holderIds: [(await newClient()).id] });
      const res = await patch(account.id, { overdraftLimit: '250' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...account, overdraftLimit: '250.00' });
      expect((await getAccount(account.id)).body.overdraftLimit).toBe('250.00');
      const number = await patch(account.id, { overdraftLimit: 75.5 });
      expect(number.status).toBe(200);
      expect(number.body.overdraftLimit).toBe('75.50');
    });

    it('the limit cannot be lowered below what the account already owes', async () => {
      const account = await bank.open({
        holderIds: [(await newClient()).id],
        overdraftLimit: '100.00',
      });
      expect((await bank.withdraw(account.id, '60.00')).status).toBe(201);
      const res = await patch(account.id, { overdraftLimit: '50.00' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const read = await getAccount(account.id);
      expect(read.body.overdraftLimit).toBe('100.00');
      expect(read.body.balance).toBe('-60.00');
      expect((await patch(account.id, { overdraftLimit: '60.00' })).status).toBe(200);
      expect((await getAccount(account.id)).body.overdraftLimit).toBe('60.00');
    });

    it('a balance in the body is 400 and the balance is unchanged', async () => {
      const account = await bank.open({ holderIds: [(await newClient()).id] });
      expect((await bank.deposit(account.id, '10.00')).status).toBe(201);
      expectFieldError(await patch(account.id, { balance: '1000000.00' }), 'balance');
      expectFieldError(
        await patch(account.id, { balance: '1000000.00', status: 'active' }),
        'balance',
      );
      const read = await getAccount(account.id);
      expect(read.body.balance).toBe('10.00');
      expect(read.body.status).toBe('active');
    });

    it('status "closed" is 400 (closing has its own route) and the account stays active', async () => {
      const account = await bank.open({ holderIds: [(await newClient()).id] });
      expectFieldError(await patch(account.id, { status: 'closed' }), 'status');
      expectFieldError(await patch(account.id, { status: 'dormant' }), 'status');
      const read = await getAccount(account.id);
      expect(read.body.status).toBe('active');
      expect(read.body.closedAt).toBeNull();
    });

    it('other unknown fields are 400; an unknown account 404, a malformed id 400', async () => {
      const account = await bank.open({ holderIds: [(await newClient()).id] });
      expectFieldError(await patch(account.id, { currency: 'USD' }), 'currency');
      expectFieldError(await patch(account.id, { number: '10000000018' }), 'number');
      expect((await getAccount(account.id)).body).toEqual(account);
      expectProblem(await patch(randomUUID(), { status: 'frozen' }), 404, 'NOT_FOUND');
      expectProblem(await patch('abc', { status: 'frozen' }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('GET /api/v1/accounts', () => {
    it('a well-formed unknown id is 404 for staff too', async () => {
      expectProblem(await getAccount(randomUUID()), 404, 'NOT_FOUND');
    });

    it('filters by holderId, joint accounts included', async () => {
      const ada = await newClient('Ada', 'Lovelace');
      const bob = await newClient('Bob', 'Builder');
      const own = await bank.open({ holderIds: [ada.id] });
      const joint = await bank.open({ holderIds: [bob.id, ada.id] });
      const bobs = await bank.open({ holderIds: [bob.id] });

      const res = await t.http.get(`/api/v1/accounts?holderId=${ada.id}`).set(bearer(teller));
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.total).toBe(2);
      const ids = res.body.items.map((a: Account) => a.id).sort();
      expect(ids).toEqual([own.id, joint.id].sort());
      expect(ids).not.toContain(bobs.id);
      res.body.items.forEach((a: Record<string, unknown>) => expectAccount(a));
    });

    it('filters by status', async () => {
      const holder = await newClient();
      const active = await bank.open({ holderIds: [holder.id] });
      const frozen = await bank.open({ holderIds: [holder.id] });
      const closed = await bank.open({ holderIds: [holder.id] });
      expect((await patch(frozen.id, { status: 'frozen' })).status).toBe(200);
      expect((await close(closed.id)).status).toBe(200);

      for (const [status, expected] of [
        ['active', active.id],
        ['frozen', frozen.id],
        ['closed', closed.id],
      ]) {
        const res = await t.http
          .get(`/api/v1/accounts?status=${status}&holderId=${holder.id}`)
          .set(bearer(teller));
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(1);
        expect(res.body.items.map((a: Account) => a.id)).toEqual([expected]);

        const all = await t.http
          .get(`/api/v1/accounts?status=${status}&limit=100`)
          .set(bearer(teller));
        expect(all.status).toBe(200);
        expect(all.body.items.length).toBeGreaterThan(0);
        expect(all.body.items.every((a: Account) => a.status === status)).toBe(true);
        expect(all.body.items.map((a: Account) => a.id)).toContain(expected);
      }
    });

    it.each(['status=open', 'status=ACTIVE', 'holderId=nope', 'limit=101', 'limit=0', 'page=0'])(
      '?%s is 400',
      async (query) => {
        expectProblem(
          await t.http.get(`/api/v1/accounts?${query}`).set(bearer(teller)),
          400,
          'VALIDATION_FAILED',
        );
      },
    );

    it('pages with {items, page, limit, total}', async () => {
      const holder = await newClient();
      const opened: string[] = [];
      for (let i = 0; i < 5; i += 1) opened.push((await bank.open({ holderIds: [holder.id] })).id);

      const seen: string[] = [];
      for (let page = 1; page <= 3; page += 1) {
        const res = await t.http
          .get(`/api/v1/accounts?holderId=${holder.id}&page=${page}&limit=2`)
          .set(bearer(teller));
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual([
          'items',
          'limit',
          'nextCursor',
          'page',
          'total',
        ]);
        expect(res.body).toEqual(expect.objectContaining({ page, limit: 2, total: 5 }));
        expect(res.body.items).toHaveLength(page < 3 ? 2 : 1);
        seen.push(...res.body.items.map((a: Account) => a.id));
      }
      expect([...seen].sort()).toEqual([...opened].sort());

      const defaults = await t.http.get('/api/v1/accounts').set(bearer(teller));
      expect(defaults.status).toBe(200);
      expect(defaults.body).toEqual(expect.objectContaining({ page: 1, limit: 20 }));
      expect(defaults.body.items.length).toBe(Math.min(20, defaults.body.total));
    });
  });

  describe('what a customer may do', () => {
    let ada: Holder;
    let bob: Holder;
    let customer: string;
    let own: Account;
    let joint: Account;
    let foreign: Account;

    beforeAll(async () => {
      ada = await newClient('Ada', 'Customer');
      bob = await newClient('Bob', 'Stranger');
      own = await bank.open({ holderIds: [ada.id] });
      joint = await bank.open({ holderIds: [bob.id, ada.id] });
      foreign = await bank.open({ holderIds: [bob.id] });
      customer = await newCustomer(ada.id);
    });

    it('lists only the accounts its client holds', async () => {
      const res = await t.http.get('/api/v1/accounts?limit=100').set(bearer(customer));
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(2);
      expect(res.body.items.map((a: Account) => a.id).sort()).toEqual([own.id, joint.id].sort());

      const filtered = await t.http
        .get(`/api/v1/accounts?holderId=${bob.id}`)
        .set(bearer(customer));
      expect(filtered.status).toBe(200);
      expect(filtered.body.items.map((a: Account) => a.id)).toEqual([joint.id]);
    });

    it('reads its accounts, joint ones included; another account is 404', async () => {
      const mine = await getAccount(own.id, customer);
      expect(mine.status).toBe(200);
      expect(mine.body).toEqual(own);
      expect((await getAccount(joint.id, customer)).status).toBe(200);
      expectProblem(await getAccount(foreign.id, customer), 404, 'NOT_FOUND');
      expectProblem(await getAccount(randomUUID(), customer), 404, 'NOT_FOUND');
    });

    it('gets 403 on opening, changing, holders and closing, and nothing changes', async () => {
      const responses = [
        await open({ holderIds: [ada.id] }, customer),
        await patch(own.id, { status: 'frozen' }, customer),
        await patch(own.id, { overdraftLimit: '1000000' }, customer),
        await patch(foreign.id, { status: 'frozen' }, customer),
        await t.http
          .post(`/api/v1/accounts/${foreign.id}/holders`)
          .set(bearer(customer))
          .send({ clientId: ada.id }),
        await t.http
          .post(`/api/v1/accounts/${own.id}/holders`)
          .set(bearer(customer))
          .send({ clientId: bob.id }),
        await t.http.delete(`/api/v1/accounts/${joint.id}/holders/${bob.id}`).set(bearer(customer)),
        await close(own.id, customer),
      ];
      for (const res of responses) expectProblem(res, 403, 'FORBIDDEN');

      expect(await heldCount(ada.id)).toBe(2);
      expect((await getAccount(own.id)).body).toEqual(own);
      expect((await getAccount(foreign.id)).body).toEqual(foreign);
      expect((await getAccount(joint.id)).body.holders).toHaveLength(2);
    });
  });

  describe('holders', () => {
    const addHolder = (id: string, clientId: string, token = teller) =>
      t.http.post(`/api/v1/accounts/${id}/holders`).set(bearer(token)).send({ clientId });
    const removeHolder = (id: string, clientId: string, token = teller) =>
      t.http.delete(`/api/v1/accounts/${id}/holders/${clientId}`).set(bearer(token));

    it('adds a holder: 200 with the account and both holders', async () => {
      const first = await newClient('First', 'Holder');
      const second = await newClient('Second', 'Holder');
      const account = await bank.open({ holderIds: [first.id] });
      const res = await addHolder(account.id, second.id);
      expect(res.status).toBe(200);
      expectAccount(res.body, { id: account.id, number: account.number, balance: '0.00' });
      expect(res.body.holders).toHaveLength(2);
      expect(res.body.holders).toEqual(expect.arrayContaining([first, second]));
      expect((await getAccount(account.id)).body.holders).toEqual(
        expect.arrayContaining([first, second]),
      );
      expect(await heldCount(second.id)).toBe(1);
    });

    it('adding an existing holder is 409; an unknown client is 400', async () => {
      const first = await newClient();
      const account = await bank.open({ holderIds: [first.id] });
      expectProblem(await addHolder(account.id, first.id), 409, 'CONFLICT');
      expectFieldError(await addHolder(account.id, randomUUID()), 'clientId');
      expectFieldError(await addHolder(account.id, 'not-a-uuid'), 'clientId');
      expect((await getAccount(account.id)).body.holders).toEqual([first]);
      expectProblem(await addHolder(randomUUID(), first.id), 404, 'NOT_FOUND');
    });

    it('removes a holder: 204; the last holder is 409 LAST_HOLDER', async () => {
      const first = await newClient('First', 'Holder');
      const second = await newClient('Second', 'Holder');
      const account = await bank.open({ holderIds: [first.id, second.id] });

      const res = await removeHolder(account.id, first.id);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await getAccount(account.id)).body.holders).toEqual([second]);
      expect(await heldCount(first.id)).toBe(0);

      expectProblem(await removeHolder(account.id, second.id), 409, 'LAST_HOLDER');
      expect((await getAccount(account.id)).body.holders).toEqual([second]);
    });

    it('removing a client that is not a holder is 404; malformed ids 400', async () => {
      const first = await newClient();
      const stranger = await newClient('Not', 'Holder');
      const account = await bank.open({ holderIds: [first.id] });
      expectProblem(await removeHolder(account.id, stranger.id), 404, 'NOT_FOUND');
      expectProblem(await removeHolder(account.id, 'x'), 400, 'VALIDATION_FAILED');
      expectProblem(await removeHolder('x', first.id), 400, 'VALIDATION_FAILED');
      expect((await getAccount(account.id)).body.holders).toEqual([first]);
    });

    it('a closed account keeps its holders: adding or removing one is 409 ACCOUNT_NOT_ACTIVE', async () => {
      const first = await newClient('First', 'Holder');
      const second = await newClient('Second', 'Holder');
      const third = await newClient('Third', 'Holder');
      const account = await bank.open({ holderIds: [first.id, second.id] });
      expect((await close(account.id)).status).toBe(200);

      expectProblem(await removeHolder(account.id, first.id), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await addHolder(account.id, third.id), 409, 'ACCOUNT_NOT_ACTIVE');
      expect((await getAccount(account.id)).body.holders).toEqual(
        expect.arrayContaining([first, second]),
      );
      expect((await getAccount(account.id)).body.holders).toHaveLength(2);
      expect(await heldCount(third.id)).toBe(0);
    });
  });

  describe('closing', () => {
    it('409 BALANCE_NOT_ZERO with money on it; 200 closed once withdrawn to zero', async () => {
      const account = await bank.open({ holderIds: [(await newClient()).id] });
      expect((await bank.deposit(account.id, '30.00')).status).toBe(201);

      expectProblem(await close(account.id), 409, 'BALANCE_NOT_ZERO');
      const still = await getAccount(account.id);
      expect(still.body).toEqual(expect.objectContaining({ status: 'active', closedAt: null }));
      expect(still.body.balance).toBe('30.00');

      expect((await bank.withdraw(account.id, '30.00')).status).toBe(201);
      const res = await close(account.id);
      expect(res.status).toBe(200);
      expectAccount(res.body, { id: account.id, status: 'closed', balance: '0.00' });
      expect(res.body.closedAt).toMatch(ISO_UTC);
      expect(Math.abs(Date.now() - Date.parse(res.body.closedAt))).toBeLessThan(5 * 60 * 1000);
      expect((await getAccount(account.id)).body).toEqual(res.body);
    });

    it('a negative balance is not zero either', async () => {
      const account = await bank.open({
        holderIds: [(await newClient()).id],
        overdraftLimit: '50',
      });
      expect((await bank.withdraw(account.id, '20.00')).status).toBe(201);
      expectProblem(await close(account.id), 409, 'BALANCE_NOT_ZERO');
      expect((await getAccount(account.id)).body.status).toBe('active');
    });

    it('an unknown account is 404', async () => {
      expectProblem(await close(randomUUID()), 404, 'NOT_FOUND');
    });

    it('a closed account refuses deposits, withdrawals and transfers with 409 ACCOUNT_NOT_ACTIVE', async () => {
      const holder = await newClient();
      const closed = await bank.open({ holderIds: [holder.id] });
      expect((await close(closed.id)).status).toBe(200);
      const other = await bank.open({ holderIds: [holder.id] });
      expect((await bank.deposit(other.id, '100.00')).status).toBe(201);

      expectProblem(await bank.deposit(closed.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.withdraw(closed.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.transfer(other.id, closed.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.transfer(closed.id, other.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');

      expect(await bank.balance(closed.id)).toBe('0.00');
      expect(await bank.balance(other.id)).toBe('100.00');
      const ops = await t.http.get(`/api/v1/accounts/${closed.id}/operations`).set(bearer(teller));
      expect(ops.status).toBe(200);
      expect(ops.body.total).toBe(0);
    });

    it('a closed account cannot be reopened through PATCH', async () => {
      const account = await bank.open({ holderIds: [(await newClient()).id] });
      expect((await close(account.id)).status).toBe(200);
      const res = await patch(account.id, { status: 'active' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect((await getAccount(account.id)).body.status).toBe('closed');
    });
  });

  describe('frozen accounts', () => {
    it('refuse deposits, withdrawals and transfers, and accept them again once unfrozen', async () => {
      const holder = await newClient();
      const account = await bank.open({ holderIds: [holder.id] });
      const other = await bank.open({ holderIds: [holder.id] });
      expect((await bank.deposit(account.id, '100.00')).status).toBe(201);
      expect((await bank.deposit(other.id, '100.00')).status).toBe(201);
      expect((await patch(account.id, { status: 'frozen' })).status).toBe(200);

      expectProblem(await bank.deposit(account.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.withdraw(account.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.transfer(account.id, other.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expectProblem(await bank.transfer(other.id, account.id, '10.00'), 409, 'ACCOUNT_NOT_ACTIVE');
      expect(await bank.balance(account.id)).toBe('100.00');
      expect(await bank.balance(other.id)).toBe('100.00');

      expect((await patch(account.id, { status: 'active' })).status).toBe(200);
      expect((await bank.deposit(account.id, '10.00')).status).toBe(201);
      expect((await bank.withdraw(account.id, '5.00')).status).toBe(201);
      expect((await bank.transfer(account.id, other.id, '15.00')).status).toBe(201);
      expect((await bank.transfer(other.id, account.id, '1.00')).status).toBe(201);
      expect(await bank.balance(account.id)).toBe('91.00');
      expect(await bank.balance(other.id)).toBe('114.00');
    });
  });
});

describe('accounts: DEFAULT_CURRENCY', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await TestApp.start({ DEFAULT_CURRENCY: 'USD' });
    admin = await t.adminToken();
  });
  afterAll(async () => {
    await t.close();
  });

  it('an account opened without a currency is in DEFAULT_CURRENCY', async () => {
    const client = await createClient(t, admin, {
      nationalId: unique('USD'),
      firstName: 'Sam',
      lastName: 'Dollar',
    });
    const account = await createAccount(t, admin, { holderIds: [client.id] });
    expectAccount(account, { currency: 'USD', balance: '0.00' });

    const euro = await createAccount(t, admin, { holderIds: [client.id], currency: 'EUR' });
    expect(euro.currency).toBe('EUR');
  });
});
