import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination';
import { IsId } from '../../common/validation';
import { IsDayOrInstant } from '../../operations/dto/operations.dto';

export class ListAuditEventsQuery extends PageQuery {
  /** Events done by this user. */
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsId()
  actorId?: string;

  /** Events about this user, client, account, operation or transfer (its id). */
  @IsOptional()
  @MaxLength(64)
  @Matches(/^[0-9A-Za-z-]+$/, { message: 'subjectId must be an id' })
  subjectId?: string;

  /** One event type, e.g. auth.login.failed. @example auth.login.failed */
  @IsOptional()
  @MaxLength(64)
  @Matches(/^[a-z_]+(\.[a-z_]+)*$/, {
    message: 'type must be an event type such as auth.login.failed',
  })
  type?: string;

  /** From this day (UTC, inclusive) or instant. @example 2026-01-01 */
  @IsOptional()
  @IsDayOrInstant()
  from?: string;

  /** To this day (UTC, inclusive) or instant. @example 2026-12-31 */
  @IsOptional()
  @IsDayOrInstant()
  to?: string;
}

/** A page of one's own security events. */
export class OwnEventsQuery extends PageQuery {}

export class AuditActorDto {
  id!: string;
  /** @example teller1 */
  username!: string;
  /** @example teller */
  role!: string;
}

export class AuditSubjectDto {
  /** user, client, account, operation, transfer, session @example account */
  type!: string;
  id!: string;
}

export class SecurityEventDto {
  id!: string;
  /** The event's place in the chain; null until it is sealed, within seconds. */
  @ApiProperty({ type: 'integer', nullable: true, example: 42 })
  seq!: number | null;
  /** @example auth.login.succeeded */
  type!: string;
  occurredAt!: Date;
  /** Who did it; null for an anonymous attempt (a failed login names no user it could trust). */
  @ApiProperty({ type: AuditActorDto, nullable: true })
  actor!: AuditActorDto | null;
  @ApiProperty({ type: AuditSubjectDto, nullable: true })
  subject!: AuditSubjectDto | null;
  @ApiProperty({ enum: ['succeeded', 'failed', 'refused'] })
  outcome!: string;
  /** The error code of a failed or refused attempt. */
  @ApiProperty({ type: String, nullable: true, example: null })
  reason!: string | null;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip!: string | null;
  @ApiProperty({ type: String, nullable: true })
  userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true })
  requestId!: string | null;
  /** What changed; never a password, token, code or secret. */
  @ApiProperty({ type: 'object', additionalProperties: true, example: {} })
  data!: Record<string, unknown>;
}

export class AuditEventDto extends SecurityEventDto {
  /** SHA-256 of prevHash, a line feed and the event (RFC 8785, hash left out); null until sealed. */
  @ApiProperty({ type: String, nullable: true })
  hash!: string | null;
  /** The previous event's hash (64 zeros for the first); null until sealed. */
  @ApiProperty({ type: String, nullable: true })
  prevHash!: string | null;
}

export class ChainVerificationDto {
  /** Whether the whole chain holds. */
  ok!: boolean;
  /** Sealed events checked. */
  count!: number;
  @ApiProperty({ type: 'integer', nullable: true })
  headSeq!: number | null;
  @ApiProperty({ type: String, nullable: true })
  headHash!: string | null;
  /** The first seq at which the chain does not hold (a removed event's own seq); null when ok. */
  @ApiProperty({ type: 'integer', nullable: true, example: null })
  brokenAtSeq!: number | null;
}
