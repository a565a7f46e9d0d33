import { formatMoney } from '../common/money';
import { CounterpartyDto, OperationDto, OperationSummaryDto } from './dto/operations.dto';
import { OperationKind, OperationType } from './operation.entity';

export interface OperationRow {
  id: string;
  seq: string;
  account_id: string;
  type: OperationType;
  kind: OperationKind;
  amount: string;
  balance_after: string;
  description: string | null;
  transfer_id: string | null;
  reversal_of: string | null;
  reversed_by?: string | null;
  performed_by: string;
  created_at: Date;
  /** The other account of a transfer (or of a transfer's reversal): its number, its holders. */
  counterparty_number?: string | null;
  counterparty_name?: string | null;
}

export const OPERATION_COLUMNS = `o.id, o.seq, o.account_id, o.type, o.kind, o.amount, o.balance_after,
  o.description, o.transfer_id, o.reversal_of, o.performed_by, o.created_at,
  (SELECT r.id FROM operations r WHERE r.reversal_of = o.id) AS reversed_by`;

/**
 * SQL: the holders' names of account `accountId` as a statement prints them,
 * in the order they were added (as GET /accounts/:id lists them): "Grace
 * Hopper", "Ada Lovelace & Charles Babbage". One index range of
 * account_holders_pkey.
 */
export const holderNamesSql = (accountId: string) =>
  `(SELECT string_agg(hc.first_name || ' ' || hc.last_name, ' & ' ORDER BY hh.added_at, hc.id)
      FROM account_holders hh JOIN clients hc ON hc.id = hh.client_id WHERE hh.account_id = ${accountId})`;

/**
 * SQL: `LEFT JOIN LATERAL` the counterparty of each row of `o` (an operation,
 * or a page of them): the account of the other leg of its transfer (the
 * other row with its transfer_id: a transfer's two legs are on two
 * accounts), found through operations_transfer_id_idx, with its holders'
 * names. Nothing for a deposit, a withdrawal or their reversals (no
 * transfer_id). Joined to the rows of a page or of a statement batch only,
 * so a list costs a few index probes per row shown, never a query per row.
 */
export const counterpartyJoin = (o: string) => `LEFT JOIN LATERAL (
    SELECT ca.number AS counterparty_number, ${holderNamesSql('ca.id')} AS counterparty_name
      FROM operations t JOIN accounts ca ON ca.id = t.account_id
     WHERE t.transfer_id = ${o}.transfer_id AND t.id <> ${o}.id LIMIT 1) cp ON true`;

/** The columns counterpartyJoin adds. */
export const COUNTERPARTY_COLUMNS = 'cp.counterparty_number, cp.counterparty_name';

function counterparty(r: OperationRow): CounterpartyDto | null {
  return r.counterparty_number
    ? { accountNumber: r.counterparty_number, name: r.counterparty_name ?? '' }
    : null;
}

export function toOperationDto(r: OperationRow): OperationDto {
  return {
    id: r.id,
    accountId: r.account_id,
    type: r.type,
    kind: r.kind,
    amount: formatMoney(BigInt(r.amount)),
    balanceAfter: formatMoney(BigInt(r.balance_after)),
    description: r.description,
    transferId: r.transfer_id,
    reversalOf: r.reversal_of,
    reversedBy: r.reversed_by ?? null,
    counterparty: counterparty(r),
    performedBy: r.performed_by,
    createdAt: r.created_at,
  };
}

/** What someone paying into another's account may see of the credit. */
export function toOperationSummary(r: OperationRow): OperationSummaryDto {
  return {
    id: r.id,
    accountId: r.account_id,
    type: r.type,
    amount: formatMoney(BigInt(r.amount)),
    createdAt: r.created_at,
    counterparty: counterparty(r),
  };
}
