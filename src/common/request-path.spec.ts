import { pathOf } from './request-path';

describe('pathOf', () => {
  it.each([
    ['/api/v1/accounts?limit=5', '/api/v1/accounts'],
    ['/api/v1/accounts', '/api/v1/accounts'],
    ['http://evil.example/api/v1/auth/me?q=1', '/api/v1/auth/me'],
    ['HTTPS://h:8080/x/y', '/x/y'],
    ['http://only-a-host', '/'],
    ['*', '*'],
  ])('%s is %s', (url, path) => {
    expect(pathOf(url)).toBe(path);
  });
});
