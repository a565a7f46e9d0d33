import Fastify from 'fastify';
import { addSecurityHeaders, securityHeaders } from './security-headers';

describe('security headers', () => {
  it('are helmet’s, with a CSP that never upgrades to https and allows Swagger UI', () => {
    const headers = securityHeaders();
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const csp = headers['content-security-policy'];
    expect(csp).toContain(`default-src 'self'`);
    expect(csp).toContain(`img-src 'self' data: validator.swagger.io`);
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('refuses options helmet refuses, at startup rather than per request', () => {
    expect(() =>
      securityHeaders({ contentSecurityPolicy: { directives: { 'bad directive': ['x'] } } }),
    ).toThrow();
  });

  it('are on every reply, 404s included', async () => {
    const fastify = Fastify();
    addSecurityHeaders(fastify);
    fastify.get('/x', () => ({ ok: true }));
    for (const url of ['/x', '/nowhere']) {
      const res = await fastify.inject({ url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toContain(`default-src 'self'`);
    }
    await fastify.close();
  });
});
