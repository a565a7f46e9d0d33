/**
 * The fixture most e2e specs start from, in one place: see `withTeller`.
 * A spec that needs more (a customer, accounts, a second teller) builds it on
 * top in its own beforeAll, with the helpers of ./banking.
 */
import { TestApp } from './app';
import { Banking, banking, createTeller } from './banking';

/** What `withTeller` gives a spec. */
export interface TellerFixture {
  /** The application on its own fresh database; the spec closes it (`afterAll(() => t.close())`). */
  t: TestApp;
  /** The admin's access token. */
  admin: string;
  /** The teller's access token. */
  teller: string;
  /** The teller's user id (what an operation it makes has as performedBy). */
  tellerId: string;
  /** The teller's username. */
  tellerName: string;
  /** The teller as `createTeller` answers: id, username and access token together. */
  tellerUser: { id: string; username: string; token: string };
  /** The teller's money routes: `banking(t, teller)`. */
  bank: Banking;
}

/**
 * Starts the application (TestApp.start with `env` and `options`), logs the
 * admin in and creates a logged-in teller. Take what the spec uses:
 *
 * ```ts
 * let t: TestApp;
 * let admin: string;
 * let teller: string;
 * let bank: Banking;
 *
 * beforeAll(async () => {
 *   ({ t, admin, teller, bank } = await withTeller());
 * });
 * afterAll(async () => {
 *   await t.close();
 * });
 * ```
 *
 * Each call is a new application on a new database (on the server, a clone
 * of the template; embedded, a new PGlite in memory), so a spec file, or a
 * describe block with its own call, stands alone.
 */
export async function withTeller(
  env: Record<string, string> = {},
  options: { database?: string } = {},
): Promise<TellerFixture> {
  const t = await TestApp.start(env, options);
  try {
    const admin = await t.adminToken();
    const tellerUser = await createTeller(t, admin);
    const { id: tellerId, username: tellerName, token: teller } = tellerUser;
    return { t, admin, teller, tellerId, tellerName, tellerUser, bank: banking(t, teller) };
  } catch (error) {
    // The spec never got the app, so its afterAll cannot close it.
    await t.close();
    throw error;
  }
}
