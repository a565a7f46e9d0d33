import { TestApp, USER_PASSWORD, bearer } from './helpers/app';

describe('auth (smoke)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await TestApp.start();
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs in and reads /me', async () => {
    const admin = await t.adminToken();
    const me = await t.http.get('/api/v1/auth/me').set(bearer(admin));
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: expect.any(String), username: 'admin', role: 'admin', clientId: null });
    expect(USER_PASSWORD).toBeTruthy();
  });
});
