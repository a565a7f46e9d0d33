/**
 * Auth's tables, for the schema's entity list: a public file of its own, so
 * that the TypeORM CLI and the schema load the entities without the module.
 */
export { LoginFailure } from './login/login-failure.entity';
export { LoginSuccess } from './login/login-success.entity';
export { Session } from './sessions/session.entity';
