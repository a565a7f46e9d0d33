import { corsNotice, corsOptions } from './cors';

describe('corsNotice', () => {
  it('tells a developer without CORS_ORIGINS how to allow a frontend, and no one else', () => {
    expect(corsNotice('development', [])).toMatch(
      /^CORS_ORIGINS is empty: browsers on other origins will be refused.*CORS_ORIGINS=http:\/\/localhost:5173/,
    );
    expect(corsNotice('development', ['http://localhost:5173'])).toBeUndefined();
    expect(corsNotice('production', [])).toBeUndefined();
    expect(corsNotice('test', [])).toBeUndefined();
  });
});

describe('corsOptions', () => {
  it('gives * and a list the same methods, request and response headers; credentials to a list only', () => {
    const any = corsOptions(['*'], 600);
    const list = corsOptions(['http://localhost:5173'], 600);
    for (const key of ['methods', 'allowedHeaders', 'exposedHeaders', 'maxAge'] as const) {
      expect(any[key]).toEqual(list[key]);
    }
    expect([any.credentials, list.credentials]).toEqual([false, true]);
    expect(any.exposedHeaders).toEqual([
      'X-Request-Id',
      'Retry-After',
      'Idempotent-Replayed',
      'Content-Disposition',
      'WWW-Authenticate',
    ]);
  });
});
