import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { accountNumber } from '../accounts/account-number';
import { Role } from '../identity/role';
import { USERNAME_KEY_SQL, usernameKey } from '../identity/username';
import { CreateUserDto } from '../users/dto/users.dto';
import { UsersService } from '../users/users.service';

/**
 * Demo data for exploring the API in Swagger: clients, single and joint
 * accounts, three months of operations, a teller and a customer login with
 * known passwords. Written once; a second run changes nothing. Written by
 * `npm run seed:demo` (src/cli/seed-demo.ts), or by the service itself at its
 * start with `SEED_DEMO=true` or `npm start -- --seed-demo`, which needs no
 * second process on the embedded database.
 */

export const DEMO_LOGINS = {
  teller: { username: 'demo-teller', password: 'demo-teller-password' },
  customer: { username: 'demo-ada', password: 'demo-customer-password' },
};

const CLIENTS = [
  { nationalId: 'DEMO-0001', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' },
  {
    nationalId: 'DEMO-0002',
    firstName: 'Charles',
    lastName: 'Babbage',
    email: 'charles@example.com',
  },
  { nationalId: 'DEMO-0003', firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com' },
  { nationalId: 'DEMO-0004', firstName: 'Alan', lastName: 'Turing', email: 'alan@example.com' },
];

/** [holders (indexes into CLIENTS), currency, overdraft in cents] */
const ACCOUNTS: Array<[number[], string, bigint]> = [
  [[0, 1], 'EUR', 50000n], // joint: Ada and Charles
  [[0], 'EUR', 0n],
  [[2], 'EUR', 20000n],
  [[2], 'USD', 0n],
  [[3], 'EUR', 0n],
];

/** A small seeded PRNG (mulberry32), so the demo is the same every time. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DemoAccount {
  id: string;
  currency: string;
  overdraft: bigint;
  balance: bigint;
}

export async function seedDemo(db: DataSource, users: UsersService): Promise<string> {
  const existing = await db.query<unknown[]>(
    `SELECT 1 FROM clients WHERE national_id = 'DEMO-0001'`,
  );
  if (existing.length > 0) return 'The demo data is already there; nothing changed.';

  const tellerId = await ensureUser(db, users, { ...DEMO_LOGINS.teller, role: Role.Teller });
  const random = prng(20261122);
  // The users service has its own connection: call it outside the transaction (the embedded pool has one).
  const adaId = await db.transaction(async (em) => {
    const clientIds: string[] = [];
    for (const c of CLIENTS) {
      const [row] = await em.query<Array<{ id: string }>>(
        `INSERT INTO clients (national_id, first_name, last_name, email, created_at)
         VALUES ($1, $2, $3, $4, now() - interval '100 days') RETURNING id`,
        [c.nationalId, c.firstName, c.lastName, c.email],
      );
      clientIds.push(row.id);
    }
    const accounts: DemoAccount[] = [];
    for (const [holders, currency, overdraft] of ACCOUNTS) {
      const [{ serial }] = await em.query<Array<{ serial: string }>>(
        `SELECT nextval('account_number_seq') AS serial`,
      );
      const [row] = await em.query<Array<{ id: string }>>(
        `INSERT INTO accounts (number, currency, overdraft_limit, opened_at)
         VALUES ($1, $2, $3, now() - interval '95 days') RETURNING id`,
        [accountNumber(serial), currency, overdraft.toString()],
      );
      for (const h of holders) {
        await em.query(`INSERT INTO account_holders (account_id, client_id) VALUES ($1, $2)`, [
          row.id,
          clientIds[h],
        ]);
      }
      accounts.push({ id: row.id, currency, overdraft, balance: 0n });
    }
    await writeHistory(em, accounts, tellerId, random);
    for (const a of accounts) {
      await em.query(
        `UPDATE accounts SET balance = $2,
                operation_count = (SELECT count(*) FROM operations WHERE account_id = $1)
          WHERE id = $1`,
        [a.id, a.balance.toString()],
      );
    }
    return clientIds[0];
  });
  await ensureUser(db, users, { ...DEMO_LOGINS.customer, role: Role.Customer, clientId: adaId });
  return (
    `Demo data created: ${CLIENTS.length} clients, ${ACCOUNTS.length} accounts (one joint), 90 days of operations.\n` +
    `  teller:   ${DEMO_LOGINS.teller.username} / ${DEMO_LOGINS.teller.password}\n` +
    `  customer: ${DEMO_LOGINS.customer.username} / ${DEMO_LOGINS.customer.password} (Ada Lovelace)`
  );
}

async function ensureUser(
  db: DataSource,
  users: UsersService,
  user: CreateUserDto,
): Promise<string> {
  const found = await db.query<Array<{ id: string }>>(
    `SELECT id FROM users WHERE ${USERNAME_KEY_SQL('username')} = $1`,
    [usernameKey(user.username)],
  );
  return found[0]?.id ?? (await users.create(user)).id;
}

/** 90 days of salaries, card payments, cash and transfers, in time order, balances exact. */
async function writeHistory(
  em: EntityManager,
  accounts: DemoAccount[],
  tellerId: string,
  random: () => number,
): Promise<void> {
  const insert = (
    a: DemoAccount,
    type: 'credit' | 'debit',
    kind: string,
    cents: bigint,
    at: Date,
    description: string,
    transferId: string | null = null,
  ) => {
    a.balance += type === 'credit' ? cents : -cents;
    return em.query(
      `INSERT INTO operations (account_id, type, kind, amount, balance_after, description, transfer_id, performed_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        a.id,
        type,
        kind,
        cents.toString(),
        a.balance.toString(),
        description,
        transferId,
        tellerId,
        at,
      ],
    );
  };
  const start = Date.now() - 90 * 86_400_000;
  for (let day = 0; day < 90; day++) {
    const at = (hour: number) => new Date(start + day * 86_400_000 + hour * 3_600_000);
    if (day % 30 === 0) {
      for (const a of accounts)
        await insert(
          a,
          'credit',
          'deposit',
          250000n + BigInt(Math.floor(random() * 50000)),
          at(9),
          'Salary',
        );
    }
    for (const a of accounts) {
      if (random() < 0.25) {
        const cents = BigInt(500 + Math.floor(random() * 12000));
        if (a.balance - cents >= -a.overdraft)
          await insert(
            a,
            'debit',
            'withdrawal',
            cents,
            at(12 + Math.floor(random() * 6)),
            random() < 0.5 ? 'Cash' : 'Card payment',
          );
      }
    }
    if (random() < 0.15) {
      const from = accounts[Math.floor(random() * accounts.length)];
      const to = accounts.find((a) => a !== from && a.currency === from.currency);
      const cents = BigInt(1000 + Math.floor(random() * 20000));
      if (to && from.balance - cents >= -from.overdraft) {
        const transferId = randomUUID();
        await insert(from, 'debit', 'transfer', cents, at(19), 'Transfer', transferId);
        await insert(to, 'credit', 'transfer', cents, at(19), 'Transfer', transferId);
      }
    }
  }
}
