import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AccountStatus } from '../accounts/account-status';
import { AuditService } from '../audit/audit.service';
import { auditActor, AuthUser } from '../auth';
import { Prunable } from '../common/prunable';
import { ApiError } from '../common/problem';
import { inTransaction } from '../common/transactions';
import { PayeeVerificationDto, VerifyPayeeDto } from './dto/payees.dto';
import { matchHolders } from './name-match';
import { PayeesRepository } from './payees.repository';

/**
 * Verifications of payee per user, over a sliding window: enough to check
 * every payee one pays, too few to turn the route into a directory of the
 * bank's customers.
 */
export const PAYEE_VERIFICATION_LIMIT = { perUser: 30, windowSeconds: 60 * 60 };

/**
 * Verification of payee (the EU's Instant Payments Regulation, Art. 5c):
 * whether a name is that of a holder of the account behind a number. It
 * informs the payer and blocks nothing. It tells a name only to a payer who
 * nearly knows it already (close_match), and the currency only when the
 * name matches, so a number cannot be turned into a name or an account by
 * guessing.
 */
@Injectable()
export class PayeesService implements Prunable {
  constructor(
    private readonly db: DataSource,
    private readonly payees: PayeesRepository,
    private readonly audit: AuditService,
  ) {}

  /**
   * Counts the verification against the user's limit, answers it, and
   * records it in the audit log with its result (never the name typed), all
   * in one transaction.
   */
  verify(user: AuthUser, dto: VerifyPayeeDto): Promise<PayeeVerificationDto> {
    return inTransaction(this.db, async (em) => {
      await this.count(em, user.id);
      const { answer, accountId } = await this.answer(em, dto);
      await this.audit.record(em, {
        type: 'payee.verified',
        actor: auditActor(user),
        subject: accountId ? { type: 'account', id: accountId } : null,
        data: { accountNumber: dto.accountNumber, result: answer.result },
      });
      return answer;
    });
  }

  /** The answer to a verification, and the id of the account behind the number (null: none). */
  private async answer(
    em: EntityManager,
    dto: VerifyPayeeDto,
  ): Promise<{ answer: PayeeVerificationDto; accountId: string | null }> {
    const answer = (
      result: PayeeVerificationDto['result'],
      currency: string | null = null,
      suggestedName: string | null = null,
    ): PayeeVerificationDto => ({
      accountNumber: dto.accountNumber,
      result,
      currency,
      suggestedName,
    });

    const account = await this.payees.findAccount(dto.accountNumber, em);
    const accountId = account?.id ?? null;
    if (!account || account.status === AccountStatus.Closed) {
      return { answer: answer('not_possible'), accountId };
    }
    const { result, holder } = matchHolders(dto.name, account.holders);
    if (result === 'match') return { answer: answer(result, account.currency), accountId };
    if (result === 'close_match' && holder) {
      return {
        answer: answer(result, account.currency, `${holder.firstName} ${holder.lastName}`),
        accountId,
      };
    }
    return { answer: answer('no_match'), accountId };
  }

  /** Verifications older than the window, which no limit counts. */
  async prune(): Promise<Record<string, number>> {
    return {
      payee_verifications: await this.payees.deleteOlderThan(
        PAYEE_VERIFICATION_LIMIT.windowSeconds,
      ),
    };
  }

  /**
   * Records a verification by `userId`, or refuses it with 429 and
   * Retry-After when the user has made the limit's worth within the window.
   * The count and the record are in `em`'s transaction under the user's lock,
   * so parallel requests on any instance cannot all slip under the limit.
   */
  private async count(em: EntityManager, userId: string): Promise<void> {
    const { perUser, windowSeconds } = PAYEE_VERIFICATION_LIMIT;
    await this.payees.lock(em, userId);
    const { reachedAt, now } = await this.payees.limitReached(em, userId, windowSeconds, perUser);
    const waitMs = reachedAt ? reachedAt.getTime() + windowSeconds * 1000 - now.getTime() : 0;
    if (waitMs > 0) {
      const wait = Math.ceil(waitMs / 1000);
      throw new ApiError(
        'TOO_MANY_REQUESTS',
        `At most ${perUser} verifications of payee in ${windowSeconds / 60} minutes; retry in ${wait} s`,
        { headers: { 'retry-after': String(wait) } },
      );
    }
    await this.payees.insert(em, userId);
  }
}
