import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AuthUser } from '../common/auth.decorators';
import { ApiError } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { Caller, SESSION_IN_QUERY, sessionEnded } from './caller';
import { JwtKeys } from './jwt-keys';
import { SessionsService } from './sessions.service';
import { decodeHeader, isAccessClaims } from './tokens.service';

/**
 * Verifies the access token (pinned algorithm, issuer, audience, expiry) and
 * then checks its session in the database on every request.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: JwtKeys,
    config: AppConfig,
    private readonly sessions: SessionsService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (
        _request: unknown,
        rawJwt: string,
        done: (err: unknown, key?: string) => void,
      ) => {
        // HS256 has one key: the header's kid only matters for RS256.
        const kid = keys.algorithm === 'HS256' ? undefined : decodeHeader(rawJwt)?.kid;
        const key = keys.verificationKey(kid);
        // A KeyObject, which jsonwebtoken takes as is (the type says string).
        if (key) done(null, key as unknown as string);
        else done(new ApiError('TOKEN_INVALID', 'The access token is signed with an unknown key'));
      },
      algorithms: [keys.algorithm],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      passReqToCallback: true,
    });
  }

  async validate(request: object, payload: unknown): Promise<AuthUser | Caller> {
    if (!isAccessClaims(payload)) {
      throw new ApiError('TOKEN_INVALID', 'The token is not an access token');
    }
    // The route's own statement checks the session (see SessionInQuery).
    if (SESSION_IN_QUERY in request) return new Caller(payload.sub, payload.sid);
    const user = await this.sessions.authenticate(payload.sid, payload.sub);
    if (!user) throw sessionEnded();
    return user;
  }
}
