/** What an event says happened: done, tried and failed (a wrong password), or refused by a rule. */
export type AuditOutcome = 'succeeded' | 'failed' | 'refused';

/** Who did it, as they were at the time. */
export interface AuditActor {
  id: string;
  username: string;
  role: string;
}

/** What it was done to. */
export interface AuditSubject {
  type: string;
  id: string;
}

/**
 * One event to record. `data` holds what changed, never a password, token,
 * code or secret. Where it came from (address, user agent, request id) is
 * taken from the current request.
 */
export interface AuditEvent {
  type: string;
  actor?: AuditActor | null;
  subject?: AuditSubject | null;
  outcome?: AuditOutcome;
  /** The error code of a failed or refused attempt. */
  reason?: string | null;
  data?: Record<string, unknown>;
}

/** An event as the API shows it, and as its hash covers it (hash aside). */
export interface ShownAuditEvent {
  id: string;
  seq: number | null;
  type: string;
  occurredAt: string;
  actor: AuditActor | null;
  subject: AuditSubject | null;
  outcome: AuditOutcome;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
  hash: string | null;
  prevHash: string | null;
}

/** A row of audit_events as the repository reads it. */
export interface AuditRow {
  pos: string;
  id: string;
  seq: string | null;
  type: string;
  occurred_at: Date;
  actor_id: string | null;
  actor_username: string | null;
  actor_role: string | null;
  subject_type: string | null;
  subject_id: string | null;
  outcome: AuditOutcome;
  reason: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string | null;
  hash: string | null;
}

export const AUDIT_COLUMNS = `pos, id, seq, type, occurred_at, actor_id, actor_username, actor_role,
  subject_type, subject_id, outcome, reason, ip, user_agent, request_id, data, prev_hash, hash`;

/** The row as the API shows it; the same object is what the chain hashes. */
export function shownEvent(row: AuditRow): ShownAuditEvent {
  return {
    id: row.id,
    seq: row.seq === null ? null : Number(row.seq),
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    actor:
      row.actor_id === null
        ? null
        : { id: row.actor_id, username: row.actor_username ?? '', role: row.actor_role ?? '' },
    subject:
      row.subject_type === null ? null : { type: row.subject_type, id: row.subject_id ?? '' },
    outcome: row.outcome,
    reason: row.reason,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    data: row.data,
    hash: row.hash,
    prevHash: row.prev_hash,
  };
}
