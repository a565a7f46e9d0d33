/** Loads (autocannon) and the table rows they give. */
import autocannon, { Request as AcRequest, Result } from 'autocannon';
import { CONNECTIONS, DURATION } from './settings';
import { cpuMs } from './service';

export interface Row {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  reference?: string;
  referenceTps?: number;
  ratio?: number;
  target?: number;
  /** The service's CPU time per request (its share of the load; both loads during the flood). */
  cpuMsPerRequest?: number;
  /** Shown instead of the target when it is not a ratio. */
  targetText?: string;
}

export type Load = Result & { cpuMsPerRequest?: number };

/** `requests` for DURATION seconds; `pid`: the service, for its CPU time per request. */
export async function load(
  base: string,
  token: string,
  requests: AcRequest[],
  options: { pid?: number; connections?: number; duration?: number } = {},
): Promise<Load> {
  const cpuBefore = options.pid ? cpuMs(options.pid) : undefined;
  const result: Load = await autocannon({
    url: base,
    connections: options.connections ?? CONNECTIONS,
    duration: options.duration ?? DURATION,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests,
  });
  if (options.pid && cpuBefore !== undefined && result.requests.total > 0) {
    result.cpuMsPerRequest = (cpuMs(options.pid) - cpuBefore) / result.requests.total;
  }
  return result;
}

/** Requests that failed: errors, timeouts and answers other than 2xx. */
export const failures = (r: Load): number => r.errors + r.timeouts + r.non2xx;

export const row = (scenario: string, r: Load): Row => ({
  scenario,
  rps: Math.round(r.requests.average),
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: failures(r),
  cpuMsPerRequest: r.cpuMsPerRequest,
});

export function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

/** GET /accounts/:id on random accounts. */
export const readAccount = (accounts: string[]): AcRequest[] => [
  {
    method: 'GET',
    setupRequest: (req) => ({ ...req, path: `/api/v1/accounts/${pick(accounts)}` }),
  },
];

/** 1.00 to a random account. */
export const deposit = (accounts: string[]): AcRequest[] => [
  {
    method: 'POST',
    body: JSON.stringify({ amount: '1.00' }),
    setupRequest: (req) => ({ ...req, path: `/api/v1/accounts/${pick(accounts)}/deposits` }),
  },
];

/** 1.00 between two random accounts. */
export const transfer = (accounts: string[]): AcRequest[] => [
  {
    method: 'POST',
    path: '/api/v1/transfers',
    setupRequest: (req) => {
      const from = pick(accounts);
      let to = pick(accounts);
      while (to === from) to = pick(accounts);
      return {
        ...req,
        body: JSON.stringify({ fromAccountId: from, toAccountId: to, amount: '1.00' }),
      };
    },
  },
];

/** GET of one path, again and again. */
export const get = (path: string): AcRequest[] => [{ method: 'GET', path }];
