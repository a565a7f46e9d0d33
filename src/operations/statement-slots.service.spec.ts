import { ApiError } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { validateEnv } from '../config/env';
import { HeldSlot, StatementSlotsRepository } from './statement-slots.repository';
import { SLOT_LEASE_SECONDS, StatementSlotsService } from './statement-slots.service';

/** The slots of one database, as the repository's statements keep them. */
function fakeSlots() {
  const taken = new Map<string, string>();
  const calls = { claim: 0, release: 0 };
  let lose = 0;
  const repository = {
    claim: jest.fn(
      (userId: string, limit: number, holder: string, lease: number): Promise<number | null> => {
        calls.claim += 1;
        expect(lease).toBe(SLOT_LEASE_SECONDS);
        // A claim that lost its slot to a concurrent one finds nothing this time.
        if (lose > 0) {
          lose -= 1;
          taken.set(`${userId}/${taken.size + 1}`, 'someone else');
          return Promise.resolve(null);
        }
        for (let slot = 1; slot <= limit; slot++) {
          if (!taken.has(`${userId}/${slot}`)) {
            taken.set(`${userId}/${slot}`, holder);
            return Promise.resolve(slot);
          }
        }
        return Promise.resolve(null);
      },
    ),
    release: jest.fn(({ userId, slot, holder }: HeldSlot) => {
      calls.release += 1;
      if (taken.get(`${userId}/${slot}`) === holder) taken.delete(`${userId}/${slot}`);
      return Promise.resolve();
    }),
    renew: jest.fn(() => Promise.resolve()),
  };
  return { repository, taken, calls, loseNext: (n: number) => (lose = n) };
}

const service = (slots: ReturnType<typeof fakeSlots>, concurrency = 2) =>
  new StatementSlotsService(
    slots.repository as unknown as StatementSlotsRepository,
    new AppConfig(
      validateEnv({ DATA_DIR: 'memory://', STATEMENT_CONCURRENCY: String(concurrency) }),
    ),
  );

const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
};

describe('StatementSlotsService', () => {
  it('gives a user STATEMENT_CONCURRENCY slots, then 429 with Retry-After', async () => {
    const slots = fakeSlots();
    const s = service(slots);
    const releases = [await s.claim('u1'), await s.claim('u1')];
    const error = await refusal(s.claim('u1'));
    expect(error.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(error.extra.headers?.['retry-after'])).toBeGreaterThan(0);
    // Another user has slots of its own.
    await s.claim('u2');
    for (const release of releases) await release();
    s.onApplicationShutdown();
  });

  it('refuses a claim beyond the limit on this instance without asking the database', async () => {
    const slots = fakeSlots();
    const s = service(slots);
    await s.claim('u1');
    await s.claim('u1');
    const asked = slots.calls.claim;
    await refusal(s.claim('u1'));
    expect(slots.calls.claim).toBe(asked);
    s.onApplicationShutdown();
  });

  it('refuses when other instances hold every slot', async () => {
    const slots = fakeSlots();
    slots.taken.set('u1/1', 'elsewhere');
    slots.taken.set('u1/2', 'elsewhere');
    const error = await refusal(service(slots).claim('u1'));
    expect(error.code).toBe('TOO_MANY_REQUESTS');
  });

  it('tries again when a concurrent claim took the slot it chose', async () => {
    const slots = fakeSlots();
    slots.loseNext(1);
    const s = service(slots, 3);
    await s.claim('u1');
    expect(slots.calls.claim).toBe(2);
    s.onApplicationShutdown();
  });

  it('frees a slot once, however often release is called, and counts it free here', async () => {
    const slots = fakeSlots();
    const s = service(slots, 1);
    const release = await s.claim('u1');
    await release();
    await release();
    expect(slots.calls.release).toBe(1);
    expect(slots.taken.size).toBe(0);
    await s.claim('u1');
    s.onApplicationShutdown();
  });

  it('counts a claim that failed as no claim', async () => {
    const slots = fakeSlots();
    slots.repository.claim.mockImplementationOnce(() => Promise.reject(new Error('db down')));
    const s = service(slots, 1);
    await expect(s.claim('u1')).rejects.toThrow('db down');
    await s.claim('u1');
    s.onApplicationShutdown();
  });
});
