/**
 * What the rest of the service may use of auth: its module, the decorators
 * and the caller of a route, the session SQL that routes embed, the
 * visibility rule, the services other modules call, and the entities the
 * schema lists. Everything else in this folder is auth's own; lint keeps
 * other folders to this file.
 */
export { AuthModule } from './auth.module';
export { Auth, CurrentUser, Public } from './auth.decorators';
export type { AuthUser } from './auth-user';
export { Caller, CurrentCaller } from './caller';
export { SessionInQuery } from './guard/session-in-query.decorator';
export { ME_COLUMNS, meCte, meHasRole, type MeRow, visibleToMe } from './session-sql';
export { accountVisibleSql, isStaff, visibilityParam } from './visibility';
export { refuseUncheckedSessions } from './guard/fail-closed';
export { AccessTokenCache } from './guard/access-token-cache';
export { LoginThrottleService } from './login/login-throttle.service';
export { PasswordService } from './login/password.service';
export { SessionsService } from './sessions/sessions.service';
export { LoginFailure } from './login/login-failure.entity';
export { LoginSuccess } from './login/login-success.entity';
export { Session } from './sessions/session.entity';
