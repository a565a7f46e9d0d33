import { formatMoney } from '../common/money';
import { OperationDto, OperationSummaryDto } from './dto/operations.dto';
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
}

export const OPERATION_COLUMNS = `o.id, o.seq, o.account_id, o.type, o.kind, o.amount, o.balance_after,
  o.description, o.transfer_id, o.reversal_of, o.performed_by, o.created_at,
  (SELECT r.id FROM operations r WHERE r.reversal_of = o.id) AS reversed_by`;

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
  };
}
