import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { newTestService, refusalOf } from './new-test-service';

class Store {
  read(): string {
    return 'real';
  }
}
class AuditedStore extends Store {
  audit(): void {}
}

const CLOCK = 'CLOCK';

@Injectable()
class Subject {
  constructor(
    readonly store: AuditedStore,
    readonly db: DataSource,
    readonly config: AppConfig,
    @Inject(CLOCK) readonly clock: { now(): number },
  ) {}
}

const clock = { now: () => 42 };

describe('newTestService', () => {
  it('mocks every method of a dependency, inherited ones too, and keeps its class', () => {
    const { sut, mocks } = newTestService(Subject, {
      providers: [{ provide: CLOCK, useValue: clock }],
    });
    const store = mocks.get(AuditedStore);
    expect(sut.store).toBe(store);
    expect(store).toBeInstanceOf(AuditedStore);
    expect(store.read()).toBeUndefined();
    expect(jest.isMockFunction(store.audit)).toBe(true);
  });

  it('gives @Inject() tokens the value provided, and refuses to guess one', () => {
    expect(
      newTestService(Subject, { providers: [{ provide: CLOCK, useValue: clock }] }).sut.clock,
    ).toBe(clock);
    expect(() => newTestService(Subject)).toThrow(/parameter 3 \(CLOCK\).*options\.providers/);
  });

  it('gives a real configuration from the defaults and `env`', () => {
    const { sut, mocks } = newTestService(Subject, {
      env: { DEFAULT_CURRENCY: 'CHF' },
      providers: [{ provide: CLOCK, useValue: clock }],
    });
    expect(sut.config).toBe(mocks.config);
    expect(mocks.config.defaultCurrency).toBe('CHF');
  });

  it('runs a DataSource transaction at once on mocks.em, also its manager', async () => {
    const { sut, mocks } = newTestService(Subject, {
      providers: [{ provide: CLOCK, useValue: clock }],
    });
    expect(await sut.db.transaction(async (em) => em)).toBe(mocks.em);
    expect(await sut.db.transaction('SERIALIZABLE', async (em) => em)).toBe(mocks.em);
    expect(sut.db.manager).toBe(mocks.em);
  });

  it('refusalOf answers a refusal’s status and code, and fails on an answer or another error', async () => {
    expect(await refusalOf(Promise.reject(new ApiError('LAST_HOLDER', 'no')))).toEqual({
      status: 409,
      code: 'LAST_HOLDER',
      detail: 'no',
      errors: undefined,
    });
    await expect(refusalOf(Promise.resolve({ ok: true }))).rejects.toThrow(/Expected a refusal/);
    await expect(refusalOf(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
