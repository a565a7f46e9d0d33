/**
 * The API from a frontend's side: every path, body, answer and error code is
 * typed by `paths`, which openapi-typescript generates from the committed
 * openapi.json into api.d.ts (`npm run client:types`), and every call goes
 * through openapi-fetch. test/typed-client.e2e-spec.ts runs `runExample`
 * against the real service, so this file is checked by the test suite as
 * well as by the type checker.
 *
 *   npx ts-node examples/typed-client/client.ts http://localhost:3000 <username> <password>
 *
 * The user must be a customer (or staff) who may transfer between two active
 * accounts of one currency, the first of which holds some money.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './api';

type Schemas = components['schemas'];
export type Account = Schemas['AccountDto'];
export type Me = Schemas['MeDto'];
export type Problem = Schemas['ProblemDetailsDto'];
/** The stable error codes of the contract: a typo in a `case` is a compile error. */
export type ProblemCode = Problem['code'];
export type TokenPair = Schemas['TokenPairDto'];
export type TransferResult = Schemas['TransferResultDto'];
export type PayeeVerification = Schemas['PayeeVerificationDto'];
export type Operation = Schemas['OperationDto'];

export interface Credentials {
  username: string;
  password: string;
}

/** An answer the API refused, with its problem details (RFC 9457). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}: ${problem.detail} (request id ${problem.requestId})`);
    this.name = 'ApiProblem';
  }

  get code(): ProblemCode {
    return this.problem.code;
  }
}

/** What the user reads for the codes this screen expects; anything else is a bug report. */
const MESSAGES: Partial<Record<ProblemCode, string>> = {
  INSUFFICIENT_FUNDS: 'There is not enough money on this account for that transfer.',
  ACCOUNT_NOT_ACTIVE: 'One of the accounts is frozen or closed.',
  CURRENCY_MISMATCH: 'Both accounts must have the same currency.',
  INVALID_CREDENTIALS: 'Wrong username or password.',
  TOO_MANY_REQUESTS: 'Too many attempts: try again later.',
};

export function messageFor(problem: ApiProblem): string {
  return MESSAGES[problem.code] ?? `Something went wrong (reference ${problem.problem.requestId}).`;
}

/** The shape of every openapi-fetch answer whose errors are problem details. */
type Answer<T> =
  | { data: T; error?: never; response: Response }
  | { data?: never; error: Problem; response: Response };

/** The data of a successful answer; a refusal becomes an ApiProblem. */
function ok<T>({ data, error, response }: Answer<T>): T {
  if (error === undefined) return data;
  // A proxy in between may answer with something else than problem details.
  if (typeof error !== 'object' || error === null || typeof error.code !== 'string') {
    throw new Error(`${response.status} ${response.statusText} from ${response.url}`);
  }
  throw new ApiProblem(response.status, error);
}

/** The public routes this app calls, sent without a token (their `security` is `[]`). */
const PUBLIC_PATHS: ReadonlySet<string> = new Set<keyof paths>([
  '/api/v1/auth/login',
  '/api/v1/auth/refresh',
  '/api/v1/auth/verify',
]);

/** Money is a string with two decimals; compute in cents, never in floating point. */
export function toCents(amount: string): bigint {
  const match = /^(-?)(\d+)\.(\d{2})$/.exec(amount);
  if (!match) throw new Error(`not an amount: ${amount}`);
  const cents = BigInt(match[2]) * 100n + BigInt(match[3]);
  return match[1] === '-' ? -cents : cents;
}

export function fromCents(cents: bigint): string {
  const abs = cents < 0n ? -cents : cents;
  return `${cents < 0n ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** The calls this app makes, on one openapi-fetch client that adds the access token. */
export class BankApi {
  readonly client: Client<paths>;
  /** The current pair: replaced by every refresh (the old refresh token is spent). */
  private tokens: TokenPair | null = null;

  constructor(baseUrl: string) {
    this.client = createClient<paths>({ baseUrl });
    const bearer: Middleware = {
      onRequest: ({ request, schemaPath }) => {
        if (this.tokens && !PUBLIC_PATHS.has(schemaPath)) {
          request.headers.set('Authorization', `Bearer ${this.tokens.accessToken}`);
        }
        return request;
      },
    };
    this.client.use(bearer);
  }

  async login(credentials: Credentials): Promise<TokenPair> {
    this.tokens = ok(await this.client.POST('/api/v1/auth/login', { body: credentials }));
    return this.tokens;
  }

  /** Rotation: the answer's refresh token is the only one that works from now on; keep it. */
  async refresh(): Promise<TokenPair> {
    if (!this.tokens) throw new Error('not logged in');
    const body = { refreshToken: this.tokens.refreshToken };
    this.tokens = ok(await this.client.POST('/api/v1/auth/refresh', { body }));
    return this.tokens;
  }

  /** Ends the session on the server (204): both tokens are refused from then on. */
  async logout(): Promise<void> {
    ok(await this.client.POST('/api/v1/auth/logout'));
    this.tokens = null;
  }

  async me(): Promise<Me> {
    return ok(await this.client.GET('/api/v1/auth/me'));
  }

  /**
   * The caller's accounts (a customer sees only its own), oldest first,
   * page after page by cursor: page numbers stop at a depth, cursors never.
   */
  async accounts(): Promise<Account[]> {
    const accounts: Account[] = [];
    let cursor: string | undefined;
    for (;;) {
      const answer = await this.client.GET('/api/v1/accounts', {
        params: { query: { limit: 100, cursor } },
      });
      const { items, nextCursor } = ok(answer);
      accounts.push(...items);
      if (nextCursor === null) return accounts;
      cursor = nextCursor;
    }
  }

  async account(id: string): Promise<Account> {
    return ok(await this.client.GET('/api/v1/accounts/{id}', { params: { path: { id } } }));
  }

  /**
   * A transfer with an Idempotency-Key: sending the same key and body again
   * (a retry after a timeout, a double click) answers the first result again
   * instead of moving the money twice.
   */
  async transfer(
    body: Schemas['TransferDto'],
    idempotencyKey: string,
  ): Promise<{ transfer: TransferResult; replayed: boolean }> {
    const answer = await this.client.POST('/api/v1/transfers', {
      params: { header: { 'Idempotency-Key': idempotencyKey } },
      body,
    });
    const replayed = answer.response.headers.get('Idempotent-Replayed') === 'true';
    return { transfer: ok(answer), replayed };
  }

  /**
   * Verification of payee: whether `name` is the name of the account's
   * holder (`match`), near it (`close_match`, with the bank's spelling in
   * `suggestedName`), another name, or no account to pay. It informs; the
   * payer decides.
   */
  async verifyPayee(accountNumber: string, name: string): Promise<PayeeVerification> {
    return ok(await this.client.POST('/api/v1/payees/verify', { body: { accountNumber, name } }));
  }

  /** An account's newest operations; a transfer leg names the other side in `counterparty`. */
  async history(accountId: string, limit = 20): Promise<Operation[]> {
    const answer = await this.client.GET('/api/v1/accounts/{id}/operations', {
      params: { path: { id: accountId }, query: { limit } },
    });
    return ok(answer).items;
  }
}

export interface ExampleOptions {
  /** The amount to transfer from the first account to the second (default "1.00"). */
  amount?: string;
  /** Progress lines, for the command line. */
  log?: (line: string) => void;
  /** Someone to pay by account number after checking the name (the payment journey). */
  payee?: { accountNumber: string; name: string; amount: string };
  /** Called with both pairs after the refresh, while the session is still live. */
  beforeLogout?: (tokens: { login: TokenPair; refreshed: TokenPair }) => Promise<void>;
}

export interface ExampleResult {
  /** Who logged in. */
  me: Me;
  /** The caller's accounts before the transfer. */
  accounts: Account[];
  transfer: {
    fromAccountId: string;
    toAccountId: string;
    amount: string;
    idempotencyKey: string;
    result: TransferResult;
    /** The same request sent again with the same key: replayed, same transfer. */
    retry: { replayed: boolean; transferId: string };
  };
  /** A transfer of more than the account can pay, and how the API refused it. */
  refused: { amount: string; status: number; code: ProblemCode; message: string };
  tokens: { login: TokenPair; refreshed: TokenPair };
  /** /auth/me answered with the refreshed access token. */
  meAfterRefresh: Me;
  /** With `payee`: the name checked, the payment by number, and the payer's history line. */
  payment?: {
    verification: PayeeVerification;
    result: TransferResult;
    historyLine: Operation | undefined;
  };
}

/**
 * The whole flow: log in, read the accounts, transfer (and retry it safely),
 * try a transfer the balance cannot cover, pay someone by account number
 * after verifying the name (with `payee`), refresh the tokens, log out.
 */
export async function runExample(
  baseUrl: string,
  credentials: Credentials,
  options: ExampleOptions = {},
): Promise<ExampleResult> {
  const log = options.log ?? (() => undefined);
  const api = new BankApi(baseUrl);

  const login = await api.login(credentials);
  log(`logged in; the access token lasts ${login.expiresIn} s`);
  const me = await api.me();
  log(`as ${me.username} (${me.role})`);

  const accounts = await api.accounts();
  for (const a of accounts) log(`account ${a.number}: ${a.balance} ${a.currency} (${a.status})`);
  const from = accounts.find((a) => a.status === 'active');
  const to = accounts.find(
    (a) => a !== from && a.status === 'active' && a.currency === from?.currency,
  );
  if (!from || !to) throw new Error('this example needs two active accounts in one currency');

  const amount = options.amount ?? '1.00';
  const idempotencyKey = crypto.randomUUID();
  const body = {
    fromAccountId: from.id,
    toAccountId: to.id,
    amount,
    description: 'typed-client example',
  };
  const first = await api.transfer(body, idempotencyKey);
  log(
    `transferred ${first.transfer.amount}: ${from.number} now ${first.transfer.debit.balanceAfter}`,
  );
  const retry = await api.transfer(body, idempotencyKey);
  log(`the same request again: replayed ${retry.replayed}, transfer ${retry.transfer.id}`);

  // One cent more than the account can pay (its balance plus its overdraft).
  const source = await api.account(from.id);
  const tooMuch = fromCents(toCents(source.balance) + toCents(source.overdraftLimit) + 1n);
  let refused: ExampleResult['refused'] | undefined;
  try {
    await api.transfer({ ...body, amount: tooMuch }, crypto.randomUUID());
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    switch (error.code) {
      case 'INSUFFICIENT_FUNDS':
        refused = {
          amount: tooMuch,
          status: error.status,
          code: error.code,
          message: messageFor(error),
        };
        break;
      default:
        throw error;
    }
  }
  if (!refused) throw new Error(`a transfer of ${tooMuch} was accepted`);
  log(`a transfer of ${tooMuch}: ${refused.status} ${refused.code}, "${refused.message}"`);

  // Paying someone: check the name against the number, pay by number, find it in the history.
  let payment: ExampleResult['payment'];
  if (options.payee) {
    const { accountNumber, name, amount: paid } = options.payee;
    const verification = await api.verifyPayee(accountNumber, name);
    log(
      `${accountNumber} for "${name}": ${verification.result}` +
        (verification.suggestedName ? ` (the bank has "${verification.suggestedName}")` : ''),
    );
    const { transfer: result } = await api.transfer(
      { fromAccountId: from.id, toAccountNumber: accountNumber, amount: paid },
      crypto.randomUUID(),
    );
    const historyLine = (await api.history(from.id)).find((op) => op.transferId === result.id);
    const to = historyLine?.counterparty;
    log(`paid ${result.amount} to ${to ? `${to.name}, ${to.accountNumber}` : 'nobody shown'}`);
    payment = { verification, result, historyLine };
  }

  const refreshed = await api.refresh();
  const meAfterRefresh = await api.me();
  log('refreshed the tokens; the new access token works');
  await options.beforeLogout?.({ login, refreshed });

  await api.logout();
  log('logged out');

  return {
    me,
    accounts,
    transfer: {
      fromAccountId: from.id,
      toAccountId: to.id,
      amount,
      idempotencyKey,
      result: first.transfer,
      retry: { replayed: retry.replayed, transferId: retry.transfer.id },
    },
    refused,
    tokens: { login, refreshed },
    meAfterRefresh,
    payment,
  };
}

if (require.main === module) {
  const [baseUrl, username, password] = process.argv.slice(2);
  if (!baseUrl || !username || !password) {
    console.error(
      'usage: npx ts-node examples/typed-client/client.ts <base URL> <username> <password>',
    );
    process.exit(2);
  }
  runExample(baseUrl, { username, password }, { log: (line) => console.log(line) }).catch(
    (error: unknown) => {
      console.error(error instanceof ApiProblem ? `${error.message}: ${messageFor(error)}` : error);
      process.exitCode = 1;
    },
  );
}
