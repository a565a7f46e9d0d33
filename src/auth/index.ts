/**
 * What the rest of the service may use of auth: its module, the decorators
 * and the caller of a route, the session SQL that routes embed, the
 * visibility rule and the services other modules call. Its entities are
 * in entities.ts, for the schema. Everything else in this folder is auth's
 * own: lint keeps other folders to these two files.
 */
export { AuthModule } from './auth.module';
export { Auth, CurrentUser, Public } from './auth.decorators';
export { type AuthUser, auditActor } from './auth-user';
export { Caller, CurrentCaller } from './caller';
export { SessionInQuery } from './guard/session-in-query.decorator';
export { ME_COLUMNS, meCte, meHasRole, type MeRow, visibleToMe } from './session-sql';
export { accountVisibleSql, isStaff, visibilityParam } from './visibility';
export { refuseUncheckedSessions } from './guard/fail-closed';
export { AccessTokenCache } from './guard/access-token-cache';
export { LoginThrottleService } from './login/login-throttle.service';
export { PasswordService } from './login/password.service';
export { SessionsService } from './sessions/sessions.service';
