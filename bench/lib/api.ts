/** The service's API as the benchmarks drive it, and the small seed of `npm run bench`. */
import { ADMIN_PASSWORD, Service } from './service';

export const TELLER = { username: 'bench-teller', password: 'bench-teller-password' };

export async function api<T>(
  service: Service,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`${service.base}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function login(
  service: Service,
  user: { username: string; password: string },
): Promise<string> {
  return (await api<{ accessToken: string }>(service, 'POST', '/api/v1/auth/login', user))
    .accessToken;
}

/** Creates the bench teller (as admin) and logs it in. */
export async function tellerToken(service: Service): Promise<string> {
  const adminToken = await login(service, { username: 'admin', password: ADMIN_PASSWORD });
  await api(service, 'POST', '/api/v1/users', { ...TELLER, role: 'teller' }, adminToken);
  return login(service, TELLER);
}

export interface Seeded {
  token: string;
  accounts: string[];
  /** An account with 20 operations. */
  hot: string;
}

/** Through the API: a teller, 3 clients, 100 accounts with 1000.00 each, 20 operations on one. */
export async function seedSmall(service: Service): Promise<Seeded> {
  const token = await tellerToken(service);
  const clients: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await api<{ id: string }>(
      service,
      'POST',
      '/api/v1/clients',
      { nationalId: `BENCH-${i}`, firstName: `Bench${i}`, lastName: 'Client' },
      token,
    );
    clients.push(c.id);
  }
  const accounts: string[] = [];
  for (let i = 0; i < 100; i++) {
    const a = await api<{ id: string }>(
      service,
      'POST',
      '/api/v1/accounts',
      { holderIds: [clients[i % 3]] },
      token,
    );
    await api(service, 'POST', `/api/v1/accounts/${a.id}/deposits`, { amount: '1000.00' }, token);
    accounts.push(a.id);
  }
  const hot = accounts[0];
  for (let i = 0; i < 19; i++) {
    await api(
      service,
      'POST',
      `/api/v1/accounts/${hot}/deposits`,
      { amount: '1.00', description: `op ${i}` },
      token,
    );
  }
  return { token, accounts, hot };
}
