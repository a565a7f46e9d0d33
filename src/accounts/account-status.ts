/**
 * What each account status permits: the one place that says it. The
 * services ask `permits`, the ledger's SQL embeds `statusPermitsSql`, the
 * DTOs take their enums and messages from `SETTABLE_STATUSES` and
 * `ACCOUNT_STATUSES`, and the table's CHECK lists `ACCOUNT_STATUSES`.
 *
 * Adding a status is this file (the enum, its row in the table) plus a
 * migration that replaces the accounts_status_check constraint; then the
 * permission table in account-status.spec.ts gains its row, and
 * `npm run swagger:metadata`, `npm run openapi:write` and
 * `npm run client:types` carry the new value to the API's documents.
 */
export enum AccountStatus {
  Active = 'active',
  Frozen = 'frozen',
  Closed = 'closed',
}

export interface StatusPermissions {
  /** Deposits, and the credit leg of a transfer. */
  credit: boolean;
  /** Withdrawals, and the debit leg of a transfer. */
  debit: boolean;
  /** A reversal's compensating operation (staff correcting the ledger). */
  reverse: boolean;
  /** Adding or removing a holder. */
  holderChanges: boolean;
  /** A new overdraft limit, or a move to another settable status. */
  settingsChanges: boolean;
  /** POST /accounts/:id/close (with the balance at 0.00). */
  close: boolean;
  /** A new hold on the available balance (for the holds the ledger will take). */
  newHolds: boolean;
  /** Staff may set it through PATCH /accounts/:id (closing has its own route). */
  settable: boolean;
}

export type Permission = Exclude<keyof StatusPermissions, 'settable'>;

export const ACCOUNT_STATUS_POLICY: Readonly<Record<AccountStatus, Readonly<StatusPermissions>>> = {
  [AccountStatus.Active]: {
    credit: true,
    debit: true,
    reverse: true,
    holderChanges: true,
    settingsChanges: true,
    close: true,
    newHolds: true,
    settable: true,
  },
  [AccountStatus.Frozen]: {
    credit: false,
    debit: false,
    reverse: true,
    holderChanges: true,
    settingsChanges: true,
    close: true,
    newHolds: false,
    settable: true,
  },
  [AccountStatus.Closed]: {
    credit: false,
    debit: false,
    reverse: false,
    holderChanges: false,
    settingsChanges: false,
    close: false,
    newHolds: false,
    settable: false,
  },
};

export const ACCOUNT_STATUSES: readonly AccountStatus[] = Object.values(AccountStatus);

/** A status staff may set through PATCH /accounts/:id. */
export type SettableStatus = AccountStatus.Active | AccountStatus.Frozen;

/** The statuses PATCH /accounts/:id accepts (the policy's `settable`; SettableStatus types them). */
export const SETTABLE_STATUSES = ACCOUNT_STATUSES.filter(
  (s): s is SettableStatus => ACCOUNT_STATUS_POLICY[s].settable,
);

/** True when an account in `status` may do `what`; an unknown status permits nothing. */
export function permits(status: string | null | undefined, what: Permission): boolean {
  const policy = (ACCOUNT_STATUS_POLICY as Record<string, StatusPermissions | undefined>)[
    status ?? ''
  ];
  return policy?.[what] ?? false;
}

/** The statuses that permit `what`. */
export function statusesPermitting(what: Permission): AccountStatus[] {
  return ACCOUNT_STATUSES.filter((s) => ACCOUNT_STATUS_POLICY[s][what]);
}

/** `a`, `b` or `c`: a list for a validation message. */
export function statusList(statuses: readonly string[]): string {
  return statuses.length < 2
    ? statuses.join('')
    : `${statuses.slice(0, -1).join(', ')} or ${statuses[statuses.length - 1]}`;
}

/** SQL literals of statuses: constants of this file, never input. */
function sqlList(statuses: readonly AccountStatus[]): string {
  return statuses.map((s) => `'${s}'`).join(', ');
}

/**
 * A SQL condition on a status column that holds when the status permits
 * `what`: `statusPermitsSql('src.status', 'debit')` is `src.status IN ('active')`.
 */
export function statusPermitsSql(column: string, what: Permission): string {
  const statuses = statusesPermitting(what);
  return statuses.length === 0 ? 'false' : `${column} IN (${sqlList(statuses)})`;
}

/** The accounts table's CHECK on its status column. */
export const STATUS_CHECK_SQL = `status IN (${sqlList(ACCOUNT_STATUSES)})`;
