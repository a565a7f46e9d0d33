import Fastify from 'fastify';
import {
  addSecurityHeaders,
  DOCS_HELMET_OPTIONS,
  HELMET_OPTIONS,
  securityHeaders,
} from './security-headers';

describe('security headers', () => {
  it('are helmet’s, with an API policy that allows nothing and forbids framing', () => {
    const headers = securityHeaders(HELMET_OPTIONS);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['content-security-policy']).toBe(`default-src 'none';frame-ancestors 'none'`);
  });

  it('give Swagger UI’s pages a policy that lets them run and never upgrades to https', () => {
    const headers = securityHeaders(DOCS_HELMET_OPTIONS);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
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

  it('are on every reply, 404s included; /docs gets the pages’ policy', async () => {
    const fastify = Fastify();
    addSecurityHeaders(fastify);
    fastify.get('/x', () => ({ ok: true }));
    fastify.get('/docs', () => 'page');
    for (const url of ['/x', '/nowhere']) {
      const res = await fastify.inject({ url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe(
        `default-src 'none';frame-ancestors 'none'`,
      );
    }
    const docs = await fastify.inject({ url: '/docs' });
    expect(docs.headers['x-content-type-options']).toBe('nosniff');
    expect(docs.headers['content-security-policy']).toContain(`script-src 'self'`);
    await fastify.close();
  });
});
