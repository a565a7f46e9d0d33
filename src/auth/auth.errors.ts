import { ApiError } from '../common/problem';

/** 401 INVALID_CREDENTIALS: the same answer whether the user exists, is disabled or the password is wrong. */
export const invalidCredentials = () =>
  new ApiError('INVALID_CREDENTIALS', 'The username or password is wrong');

/** 401 TOKEN_INVALID for a refresh token that is not the live one of a session. */
export const invalidRefresh = () => new ApiError('TOKEN_INVALID', 'The refresh token is not valid');

/** 401 TOKEN_INVALID for a verified token whose session has ended. */
export const sessionEnded = () =>
  new ApiError('TOKEN_INVALID', 'The session of this token has ended');
