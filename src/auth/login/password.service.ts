import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { availableParallelism } from 'node:os';

/** OWASP's argon2id parameters; argon2 runs on libuv's thread pool, off the event loop. */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * At most this many hashes at once (all cores but one, at least one): a login
 * flood then queues for the hasher instead of taking every core (and 19 MiB
 * per hash) from the requests that need none.
 */
const MAX_CONCURRENT_HASHES = Math.max(1, availableParallelism() - 1);

@Injectable()
export class PasswordService {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Verified against when the user does not exist, so both answers take as long. */
  private readonly dummyHash = argon2.hash('not-a-real-password-0123456789', OPTIONS);

  hash(password: string): Promise<string> {
    return this.limited(() => argon2.hash(password, OPTIONS));
  }

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    const target = hash ?? (await this.dummyHash);
    try {
      return await this.limited(() => argon2.verify(target, password));
    } catch {
      return false;
    }
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= MAX_CONCURRENT_HASHES) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
