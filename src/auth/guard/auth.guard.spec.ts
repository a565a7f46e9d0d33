import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { Role } from '../../identity/role';
import { JwtAuthGuard } from './auth.guard';
import { Auth, Public } from '../auth.decorators';
import { SessionsService } from '../sessions/sessions.service';
import { AccessTokenCache } from './access-token-cache';

class Routes {
  @Public()
  open(): void {}

  @Public()
  @Auth(Role.Admin)
  both(): void {}
}

/** The guard's context for a request without any header to `Routes[name]`. */
const requestTo = (name: 'open' | 'both') =>
  new ExecutionContextHost([{ headers: {} }, {}], Routes, Routes.prototype[name]);

describe('JwtAuthGuard', () => {
  // A public route never reaches the token or the session.
  const guard = new JwtAuthGuard(new Reflector(), {} as AccessTokenCache, {} as SessionsService);

  it('lets a @Public() route through without a token', async () => {
    await expect(guard.canActivate(requestTo('open'))).resolves.toBe(true);
  });

  it('refuses to guess for a route that is both @Public() and @Auth(roles)', async () => {
    await expect(guard.canActivate(requestTo('both'))).rejects.toThrow(
      'Routes.both is both @Public() and @Auth(roles)',
    );
  });
});
