import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { onManager, onPool, Querier } from '../common/prepared';
import { chainHash, GENESIS_HASH } from './audit-hash';
import { AuditEvent, AuditRow, shownEvent } from './audit-event';
import { AuditRepository } from './audit.repository';

/** Events the sealer chains in one transaction. */
const SEAL_BATCH = 1_000;
/** Ticks the sealer keeps running after a write of this instance. */
const SEAL_TICKS_AFTER_WRITE = 3;
/** Without writes, the sealer runs every this many ticks. */
const SEAL_FALLBACK_TICKS = 60;
/** Events verification reads at a time. */
const VERIFY_BATCH = 2_000;

export interface ChainVerification {
  ok: boolean;
  /** Sealed events checked. */
  count: number;
  headSeq: number | null;
  headHash: string | null;
  /** The first seq at which the chain does not hold (a removed event's own), or null. */
  brokenAtSeq: number | null;
}

/**
 * The audit log: record() writes an event in the caller's transaction, so a
 * rollback leaves none; recordApart() in a transaction of its own, for what
 * is refused or fails (the request's own transaction rolls back). The sealer
 * chains committed events afterwards (see AuditSealer), and verify()
 * recomputes the chain.
 */
@Injectable()
export class AuditService {
  /** Sealer ticks left in which this instance's recent writes may still commit (see noteWritten). */
  private ticksLeft = 0;

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditRepository,
  ) {}

  /** In the transaction of `on` (an EntityManager or a statement runner of one). */
  async record(on: EntityManager | Querier, event: AuditEvent): Promise<void> {
    await this.audit.insert(typeof on === 'function' ? on : onManager(on), event);
    this.noteWritten();
  }

  /** In a transaction of its own: a failed login, a refused money request. */
  async recordApart(event: AuditEvent): Promise<void> {
    await this.audit.insert(onPool(this.db), event);
    this.noteWritten();
  }

  /**
   * This instance wrote an event (here, or in a statement of its own, as the
   * ledger's do): its sealer runs at its next few ticks, long enough for the
   * writing transaction to commit. An instance that writes nothing seals
   * only every SEAL_FALLBACK_TICKS ticks (the events of an instance that died
   * before sealing them), so an idle service leaves its database idle too.
   */
  noteWritten(): void {
    this.ticksLeft = SEAL_TICKS_AFTER_WRITE;
  }

  /** Whether the sealer's tick number `tick` should seal. */
  shouldSeal(tick: number): boolean {
    if (this.ticksLeft > 0) {
      this.ticksLeft -= 1;
      return true;
    }
    return tick % SEAL_FALLBACK_TICKS === 0;
  }

  /** Chains the committed, unsealed events; how many it sealed. */
  async seal(): Promise<number> {
    let sealed = 0;
    for (;;) {
      const n = await this.audit.seal(SEAL_BATCH, link, GENESIS_HASH);
      sealed += n;
      if (n < SEAL_BATCH) return sealed;
    }
  }

  /**
   * Recomputes the chain from seq 1: each seq the next, each prevHash the
   * previous event's hash, each hash the event's own, and the last event the
   * head the sealer recorded (so removing the newest events shows too).
   */
  async verify(): Promise<ChainVerification> {
    let expected = 1;
    let prevHash = GENESIS_HASH;
    let count = 0;
    let brokenAtSeq: number | null = null;
    for (;;) {
      const rows = await this.audit.sealedAfter(expected - 1, VERIFY_BATCH);
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expected) {
          brokenAtSeq = expected;
          break;
        }
        if (row.prev_hash !== prevHash || row.hash !== link(row, seq, prevHash)) {
          brokenAtSeq = seq;
          break;
        }
        prevHash = row.hash!;
        expected += 1;
        count += 1;
      }
      if (brokenAtSeq !== null || rows.length < VERIFY_BATCH) break;
    }
    const head = await this.audit.head();
    if (brokenAtSeq === null && head && head.seq !== count) brokenAtSeq = count + 1;
    if (brokenAtSeq === null && head && head.hash !== prevHash) brokenAtSeq = head.seq;
    return {
      ok: brokenAtSeq === null,
      count,
      headSeq: head?.seq ?? null,
      headHash: head?.hash ?? null,
      brokenAtSeq,
    };
  }
}

/** An event's hash at `seq` after `prevHash`: the hash of the event as the API would show it sealed. */
function link(row: AuditRow, seq: number, prevHash: string): string {
  return chainHash(prevHash, { ...shownEvent(row), seq, prevHash, hash: null });
}

/**
 * Seals the log every AUDIT_SEAL_INTERVAL on every instance that has just
 * written events (and every 60 intervals on any, see noteWritten); the advisory
 * lock lets one at a time do it, and a transaction-scoped lock and polling
 * work behind a transaction-mode pooler, where session locks and
 * LISTEN/NOTIFY do not.
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditSealer.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.auditSealInterval;
    if (every <= 0) return;
    let tick = 0;
    this.timer = setInterval(() => {
      tick += 1;
      if (this.running || !this.audit.shouldSeal(tick)) return;
      this.running = this.audit
        .seal()
        .catch((error: unknown) =>
          this.logger.warn(`Sealing the audit log failed: ${String(error)}`),
        )
        .finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
