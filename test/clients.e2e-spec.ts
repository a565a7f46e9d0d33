import { randomUUID } from 'node:crypto';
import { TestApp, bearer } from './helpers/app';
import { ClientBody, createAccount, createClient, createCustomer, unique } from './helpers/banking';
import { ISO_UTC, UUID, expectFieldError, expectProblem } from './helpers/expect';
import { withTeller } from './helpers/fixture';

const CLIENT_KEYS = [
  'address',
  'createdAt',
  'email',
  'firstName',
  'id',
  'lastName',
  'nationalId',
  'phone',
];

function expectClient(body: Record<string, unknown>, expected: Partial<ClientBody> = {}): void {
  expect(Object.keys(body).sort()).toEqual(CLIENT_KEYS);
  expect(body.id).toMatch(UUID);
  expect(body.createdAt).toMatch(ISO_UTC);
  expect(body).toEqual(expect.objectContaining(expected));
}

/** A national id nobody else in the run has (letters and digits only). */
const uniqueNid = (prefix = 'NID') => unique(prefix, 12);

describe('clients', () => {
  let t: TestApp;
  let admin: string;
  let teller: string;

  beforeAll(async () => {
    ({ t, admin, teller } = await withTeller());
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (body: object, token = teller) =>
    t.http.post('/api/v1/clients').set(bearer(token)).send(body);
  const read = (id: string, token = teller) =>
    t.http.get(`/api/v1/clients/${id}`).set(bearer(token));
  const patch = (id: string, body: object, token = teller) =>
    t.http.patch(`/api/v1/clients/${id}`).set(bearer(token)).send(body);
  const remove = (id: string, token = teller) =>
    t.http.delete(`/api/v1/clients/${id}`).set(bearer(token));
  const search = (query: string, token = teller) =>
    t.http.get(`/api/v1/clients?${query}`).set(bearer(token));

  const newClient = (extra: object = {}): Promise<ClientBody> =>
    createClient(t, teller, { nationalId: uniqueNid(), ...extra });
  const newCustomer = (clientId: string) => createCustomer(t, admin, clientId);

  describe('POST /api/v1/clients', () => {
    it('creates a client: 201 with exactly the client shape, readable afterwards', async () => {
      const body = {
        nationalId: uniqueNid(),
        firstName: 'Ada',
        lastName: 'Lovelace',
        address: "12 St James's Square, London",
        email: 'ada@example.com',
        phone: '+44 20 7946 0000',
      };
      const res = await create(body);
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expectClient(res.body, body);
      expect(Math.abs(Date.now() - Date.parse(res.body.createdAt))).toBeLessThan(5 * 60 * 1000);

      const again = await read(res.body.id);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(res.body);
    });

    it('optional fields default to null', async () => {
      const nationalId = uniqueNid();
      const res = await create({ nationalId, firstName: 'Alan', lastName: 'Turing' });
      expect(res.status).toBe(201);
      expectClient(res.body, {
        nationalId,
        firstName: 'Alan',
        lastName: 'Turing',
        address: null,
        email: null,
        phone: null,
      });
    });

    it('a duplicate nationalId is 409 CONFLICT and creates nothing', async () => {
      const nationalId = uniqueNid();
      expect((await create({ nationalId, firstName: 'Ada', lastName: 'Lovelace' })).status).toBe(
        201,
      );
      const again = await create({ nationalId, firstName: 'Grace', lastName: 'Hopper' });
      expectProblem(again, 409, 'CONFLICT');

      const found = await search(`nationalId=${nationalId}`);
      expect(found.status).toBe(200);
      expect(found.body.total).toBe(1);
      expect(found.body.items).toEqual([
        expect.objectContaining({ nationalId, firstName: 'Ada', lastName: 'Lovelace' }),
      ]);
    });

    it('an invalid email is 400 and creates nothing', async () => {
      const nationalId = uniqueNid();
      const res = await create({
        nationalId,
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: 'not-an-email',
      });
      expectFieldError(res, 'email');
      expect((await search(`nationalId=${nationalId}`)).body.total).toBe(0);
    });

    it('an unknown field is 400 and creates nothing', async () => {
      const nationalId = uniqueNid();
      const res = await create({
        nationalId,
        firstName: 'Ada',
        lastName: 'Lovelace',
        middleName: 'Augusta',
      });
      expectFieldError(res, 'middleName');
      expect((await search(`nationalId=${nationalId}`)).body.total).toBe(0);
    });

    it.each(['nationalId', 'firstName', 'lastName'])('a missing %s is 400', async (field) => {
      const body: Record<string, string> = {
        nationalId: uniqueNid(),
        firstName: 'Ada',
        lastName: 'Lovelace',
      };
      delete body[field];
      expectFieldError(await create(body), field);
    });

    it('a body that is not JSON is 415', async () => {
      const res = await t.http
        .post('/api/v1/clients')
        .set(bearer(teller))
        .set('Content-Type', 'text/plain')
        .send('nationalId=1');
      expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('GET /api/v1/clients/:id', () => {
    it('returns the client', async () => {
      const client = await newClient({ email: 'read@example.com' });
      const res = await read(client.id);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(client);
    });

    it('an unknown id is 404, a malformed one 400', async () => {
      expectProblem(await read(randomUUID()), 404, 'NOT_FOUND');
      expectProblem(await read('not-a-uuid'), 400, 'VALIDATION_FAILED');
    });
  });

  describe('PATCH /api/v1/clients/:id', () => {
    it('updates the given fields and returns 200 with the client', async () => {
      const client = await newClient({ email: 'old@example.com', phone: '+1 555 0100' });
      const res = await patch(client.id, {
        firstName: 'Augusta',
        address: '1 New Street',
        email: 'new@example.com',
      });
      expect(res.status).toBe(200);
      expectClient(res.body, {
        id: client.id,
        nationalId: client.nationalId,
        firstName: 'Augusta',
        lastName: 'Lovelace',
        address: '1 New Street',
        email: 'new@example.com',
        phone: '+1 555 0100',
        createdAt: client.createdAt,
      });
      expect((await read(client.id)).body).toEqual(res.body);
    });

    it('optional fields can be cleared with null', async () => {
      const client = await newClient({ email: 'clear@example.com', phone: '+1 555 0101' });
      const res = await patch(client.id, { email: null, phone: null });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...client, email: null, phone: null });
    });

    it('a nationalId in the body is 400 and nothing changes', async () => {
      const client = await newClient();
      const res = await patch(client.id, { nationalId: uniqueNid(), firstName: 'Changed' });
      expectFieldError(res, 'nationalId');
      const after = await read(client.id);
      expect(after.status).toBe(200);
      expect(after.body).toEqual(client);
    });

    it('an invalid email or an unknown field is 400 and nothing changes', async () => {
      const client = await newClient({ email: 'keep@example.com' });
      expectFieldError(await patch(client.id, { email: 'nope' }), 'email');
      expectFieldError(await patch(client.id, { balance: '10.00' }), 'balance');
      expectFieldError(await patch(client.id, { firstName: '' }), 'firstName');
      expect((await read(client.id)).body).toEqual(client);
    });

    it('an unknown id is 404, a malformed one 400', async () => {
      expectProblem(await patch(randomUUID(), { firstName: 'X' }), 404, 'NOT_FOUND');
      expectProblem(await patch('123', { firstName: 'X' }), 400, 'VALIDATION_FAILED');
    });
  });

  describe('DELETE /api/v1/clients/:id', () => {
    it('deletes a client without accounts: 204, then 404', async () => {
      const client = await newClient();
      const res = await remove(client.id);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectProblem(await read(client.id), 404, 'NOT_FOUND');
      expectProblem(await remove(client.id), 404, 'NOT_FOUND');
      expect((await search(`nationalId=${client.nationalId}`)).body.total).toBe(0);
    });

    it('is 409 CLIENT_HAS_ACCOUNTS while the client holds an account', async () => {
      const client = await newClient();
      const account = await createAccount(t, teller, { holderIds: [client.id] });
      expectProblem(await remove(client.id), 409, 'CLIENT_HAS_ACCOUNTS');
      const still = await read(client.id);
      expect(still.status).toBe(200);
      expect(still.body).toEqual(client);
      const held = await t.http.get(`/api/v1/accounts/${account.id}`).set(bearer(teller));
      expect(held.status).toBe(200);
      expect(held.body.holders.map((h: { id: string }) => h.id)).toEqual([client.id]);
    });

    it('once the client no longer holds the joint account it can be deleted', async () => {
      const leaving = await newClient({ firstName: 'Leaving' });
      const staying = await newClient({ firstName: 'Staying' });
      const account = await createAccount(t, teller, { holderIds: [leaving.id, staying.id] });
      expectProblem(await remove(leaving.id), 409, 'CLIENT_HAS_ACCOUNTS');
      const off = await t.http
        .delete(`/api/v1/accounts/${account.id}/holders/${leaving.id}`)
        .set(bearer(teller));
      expect(off.status).toBe(204);
      expect((await remove(leaving.id)).status).toBe(204);
      expectProblem(await read(leaving.id), 404, 'NOT_FOUND');
      expect((await read(staying.id)).status).toBe(200);
    });

    it('an unknown id is 404, a malformed one 400', async () => {
      expectProblem(await remove(randomUUID()), 404, 'NOT_FOUND');
      expectProblem(await remove('x'), 400, 'VALIDATION_FAILED');
    });
  });

  describe('GET /api/v1/clients/:id/accounts', () => {
    it('lists the accounts the client holds, joint ones included, as a page', async () => {
      const client = await newClient();
      const partner = await newClient({ firstName: 'Partner' });
      const own = await createAccount(t, teller, { holderIds: [client.id] });
      const joint = await createAccount(t, teller, { holderIds: [partner.id, client.id] });
      const other = await createAccount(t, teller, { holderIds: [partner.id] });

      const res = await t.http.get(`/api/v1/clients/${client.id}/accounts`).set(bearer(teller));
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual([
        'items',
        'limit',
        'nextCursor',
        'page',
        'total',
      ]);
      expect(res.body).toEqual(expect.objectContaining({ page: 1, limit: 20, total: 2 }));
      const ids = res.body.items.map((a: { id: string }) => a.id).sort();
      expect(ids).toEqual([own.id, joint.id].sort());
      expect(ids).not.toContain(other.id);
      for (const account of res.body.items) {
        expect(account.holders.map((h: { id: string }) => h.id)).toContain(client.id);
      }

      const paged = await t.http
        .get(`/api/v1/clients/${client.id}/accounts?page=2&limit=1`)
        .set(bearer(teller));
      expect(paged.status).toBe(200);
      expect(paged.body).toEqual(expect.objectContaining({ page: 2, limit: 1, total: 2 }));
      expect(paged.body.items).toHaveLength(1);
    });

    it('is an empty page for a client without accounts', async () => {
      const client = await newClient();
      const res = await t.http.get(`/api/v1/clients/${client.id}/accounts`).set(bearer(teller));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [], page: 1, limit: 20, total: 0, nextCursor: null });
    });

    it('an unknown client is 404, a limit above 100 is 400', async () => {
      expectProblem(
        await t.http.get(`/api/v1/clients/${randomUUID()}/accounts`).set(bearer(teller)),
        404,
        'NOT_FOUND',
      );
      const client = await newClient();
      expectProblem(
        await t.http.get(`/api/v1/clients/${client.id}/accounts?limit=101`).set(bearer(teller)),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  describe('access', () => {
    it('without a token every clients route is 401', async () => {
      const id = randomUUID();
      const responses = [
        await t.http
          .post('/api/v1/clients')
          .send({ nationalId: uniqueNid(), firstName: 'A', lastName: 'B' }),
        await t.http.get('/api/v1/clients'),
        await t.http.get(`/api/v1/clients/${id}`),
        await t.http.patch(`/api/v1/clients/${id}`).send({ firstName: 'X' }),
        await t.http.delete(`/api/v1/clients/${id}`),
        await t.http.get(`/api/v1/clients/${id}/accounts`),
      ];
      for (const res of responses) expectProblem(res, 401, 'UNAUTHENTICATED');
    });

    it('a customer reads its own client and its accounts', async () => {
      const client = await newClient();
      const account = await createAccount(t, teller, { holderIds: [client.id] });
      const customer = await newCustomer(client.id);

      const res = await read(client.id, customer);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(client);

      const accounts = await t.http
        .get(`/api/v1/clients/${client.id}/accounts`)
        .set(bearer(customer));
      expect(accounts.status).toBe(200);
      expect(accounts.body.total).toBe(1);
      expect(accounts.body.items.map((a: { id: string }) => a.id)).toEqual([account.id]);
    });

    it('a customer gets 404 for another client and its accounts', async () => {
      const own = await newClient();
      const other = await newClient({ firstName: 'Other' });
      await createAccount(t, teller, { holderIds: [other.id] });
      const customer = await newCustomer(own.id);

      expectProblem(await read(other.id, customer), 404, 'NOT_FOUND');
      expectProblem(await read(randomUUID(), customer), 404, 'NOT_FOUND');
      expectProblem(
        await t.http.get(`/api/v1/clients/${other.id}/accounts`).set(bearer(customer)),
        404,
        'NOT_FOUND',
      );
    });

    it('a customer gets 403 on the staff-only routes and changes nothing', async () => {
      const own = await newClient();
      const other = await newClient({ firstName: 'Victim' });
      const customer = await newCustomer(own.id);
      const nationalId = uniqueNid();

      const responses = [
        await create({ nationalId, firstName: 'Mallory', lastName: 'Evil' }, customer),
        await search('', customer),
        await search(`lastName=Lov`, customer),
        await patch(own.id, { firstName: 'Self' }, customer),
        await patch(other.id, { firstName: 'Hacked' }, customer),
        await remove(other.id, customer),
        await remove(own.id, customer),
      ];
      for (const res of responses) expectProblem(res, 403, 'FORBIDDEN');

      expect((await search(`nationalId=${nationalId}`)).body.total).toBe(0);
      expect((await read(own.id)).body).toEqual(own);
      expect((await read(other.id)).body).toEqual(other);
    });

    it('a teller can create, list, read, update and delete clients', async () => {
      const nationalId = uniqueNid('TEL');
      const created = await create({ nationalId, firstName: 'Tina', lastName: 'Teller' });
      expect(created.status).toBe(201);
      const listed = await search(`nationalId=${nationalId}`);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toEqual([created.body]);
      expect((await read(created.body.id)).status).toBe(200);
      const updated = await patch(created.body.id, { lastName: 'Changed' });
      expect(updated.status).toBe(200);
      expect(updated.body.lastName).toBe('Changed');
      expect((await remove(created.body.id)).status).toBe(204);
      expectProblem(await read(created.body.id), 404, 'NOT_FOUND');
    });

    it('an admin can do the same', async () => {
      const created = await create(
        { nationalId: uniqueNid('ADM'), firstName: 'Ann', lastName: 'Admin' },
        admin,
      );
      expect(created.status).toBe(201);
      expect((await read(created.body.id, admin)).status).toBe(200);
      expect((await patch(created.body.id, { phone: '+1 555 0199' }, admin)).status).toBe(200);
      expect((await remove(created.body.id, admin)).status).toBe(204);
    });
  });
});

describe('clients: search and paging', () => {
  let t: TestApp;
  let teller: string;
  const ids: Record<string, string> = {};

  const seed = [
    { key: 'ada', nationalId: 'AB1001', firstName: 'Ada', lastName: 'Lovelace' },
    { key: 'alan', nationalId: 'CD2002', firstName: 'Alan', lastName: 'Turing' },
    { key: 'grace', nationalId: 'LOV-777', firstName: 'Grace', lastName: 'Hopper' },
    { key: 'lovisa', nationalId: 'EF3003', firstName: 'Lovisa', lastName: 'Berg' },
    { key: 'percent', nationalId: 'GH4004', firstName: 'Per', lastName: '%Cent' },
    { key: 'obrien', nationalId: 'IJ5005', firstName: 'Pat', lastName: 'O_Brien' },
    { key: 'oxbrien', nationalId: 'KL6006', firstName: 'Max', lastName: 'OxBrien' },
  ];

  beforeAll(async () => {
    ({ t, teller } = await withTeller());
    for (const { key, ...client } of seed) {
      ids[key] = (await createClient(t, teller, client)).id;
    }
  });
  afterAll(async () => {
    await t.close();
  });

  async function found(query: string): Promise<string[]> {
    const res = await t.http.get(`/api/v1/clients?${query}&limit=100`).set(bearer(teller));
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(res.body.items.length);
    res.body.items.forEach((c: Record<string, unknown>) =>
      expect(Object.keys(c).sort()).toEqual(CLIENT_KEYS),
    );
    const keys = res.body.items.map(
      (c: { id: string }) => Object.entries(ids).find(([, id]) => id === c.id)?.[0] ?? c.id,
    );
    return (keys as string[]).sort();
  }

  it.each([
    ['lastName=lov', ['ada']],
    ['lastName=LOV', ['ada']],
    ['lastName=Lovelace', ['ada']],
    ['lastName=ove', []],
    ['lastName=elace', []],
    ['firstName=ada', ['ada']],
    ['firstName=AL', ['alan']],
    ['firstName=lan', []],
    ['nationalId=ab1', ['ada']],
    ['nationalId=lov-', ['grace']],
    ['nationalId=1001', []],
    ['q=lov', ['ada', 'grace', 'lovisa']],
    ['q=TUR', ['alan']],
    ['q=cd2', ['alan']],
    ['q=uring', []],
    ['lastName=lov&firstName=grace', []],
    ['lastName=lov&firstName=ad', ['ada']],
  ])('?%s is a case-insensitive prefix search', async (query, expected) => {
    expect(await found(query)).toEqual([...expected].sort());
  });

  it.each([
    ['q=%25', ['percent']],
    ['lastName=%25', ['percent']],
    ['q=%25c', ['percent']],
    ['q=_', []],
    ['firstName=_', []],
    ['nationalId=%25', []],
    ['lastName=o_b', ['obrien']],
    ['lastName=o%25b', []],
    ['q=%25o%25', []],
    ['q=%5C', []],
  ])('LIKE wildcards are literal: ?%s', async (query, expected) => {
    expect(await found(query)).toEqual([...expected].sort());
  });

  it('without filters lists everyone', async () => {
    expect(await found('')).toEqual(Object.keys(ids).sort());
  });

  it('pages with {items, page, limit, total}', async () => {
    const first = await t.http.get('/api/v1/clients?page=1&limit=3').set(bearer(teller));
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual([
      'items',
      'limit',
      'nextCursor',
      'page',
      'total',
    ]);
    expect(first.body).toEqual(expect.objectContaining({ page: 1, limit: 3, total: seed.length }));
    expect(first.body.items).toHaveLength(3);

    const seen: string[] = [];
    for (let page = 1; page <= 3; page += 1) {
      const res = await t.http.get(`/api/v1/clients?page=${page}&limit=3`).set(bearer(teller));
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(seed.length);
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
    }
    expect(seen).toHaveLength(seed.length);
    expect([...seen].sort()).toEqual(Object.values(ids).sort());

    const beyond = await t.http.get('/api/v1/clients?page=5&limit=3').set(bearer(teller));
    expect(beyond.status).toBe(200);
    expect(beyond.body).toEqual({
      items: [],
      page: 5,
      limit: 3,
      total: seed.length,
      nextCursor: null,
    });

    const filtered = await t.http.get('/api/v1/clients?q=lov&limit=2').set(bearer(teller));
    expect(filtered.body).toEqual(expect.objectContaining({ page: 1, limit: 2, total: 3 }));
    expect(filtered.body.items).toHaveLength(2);
  });

  it('defaults to page 1, limit 20; accepts 1 and 100', async () => {
    const res = await t.http.get('/api/v1/clients').set(bearer(teller));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ page: 1, limit: 20, total: seed.length }));
    expect(
      (await t.http.get('/api/v1/clients?limit=1').set(bearer(teller))).body.items,
    ).toHaveLength(1);
    expect((await t.http.get('/api/v1/clients?limit=100').set(bearer(teller))).status).toBe(200);
  });

  it.each([
    ['limit', '0x10'],
    ['limit', '%205'],
    ['limit', '1e1'],
    ['limit', '%2B5'],
    ['limit', '5.0'],
    ['page', '0x2'],
    ['page', '2.0'],
  ])('?%s=%s, not written in decimal digits, is 400 naming the field', async (field, value) => {
    const res = await t.http.get(`/api/v1/clients?${field}=${value}`).set(bearer(teller));
    expectFieldError(res, field);
    expect(res.body.errors).toEqual([
      { field, message: `${field} must be a whole number written in decimal digits` },
    ]);
  });

  it.each(['limit=101', 'limit=0', 'limit=-5', 'limit=abc', 'page=0', 'page=abc'])(
    '?%s is 400',
    async (query) => {
      expectProblem(
        await t.http.get(`/api/v1/clients?${query}`).set(bearer(teller)),
        400,
        'VALIDATION_FAILED',
      );
    },
  );
});
