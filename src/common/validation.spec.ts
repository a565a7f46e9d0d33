import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { PageQuery } from './pagination';
import { ApiError } from './problem';
import { AppValidationPipe, nulAt } from './validation';

describe('nulAt', () => {
  it('names the first string holding U+0000 by its path', () => {
    expect(nulAt('a\u0000')).toBe('');
    expect(nulAt({ username: 'a\u0000', password: 'x' })).toBe('username');
    expect(nulAt({ holders: [{ id: 'x' }, { id: 'y', note: '\u0000' }] })).toBe('holders[1].note');
    expect(nulAt([['ok', 'n\u0000']])).toBe('[0][1]');
    expect(nulAt({ ['k\u0000']: 1 })).toBe('k\u0000');
  });

  it('is null for values without one, numbers and nulls included', () => {
    expect(
      nulAt({ amount: 5, description: null, tags: ['a', 'b'], nested: { x: 'y' } }),
    ).toBeNull();
    expect(nulAt(undefined)).toBeNull();
  });
});

describe('limit and page of a list', () => {
  const pipe = new AppValidationPipe();
  const parse = (query: Record<string, unknown>) =>
    pipe.transform(query, { type: 'query', metatype: PageQuery }) as Promise<PageQuery>;
  /** The fields named by the 400 that `query` gets. */
  const refused = async (query: Record<string, unknown>) => {
    const error: unknown = await parse(query).then(
      () => new Error(`${JSON.stringify(query)} was accepted`),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('VALIDATION_FAILED');
    return (error as ApiError).extra.errors?.map((e) => e.field);
  };

  it('reads decimal digits', async () => {
    expect(await parse({ limit: '16', page: '3' })).toMatchObject({ limit: 16, page: 3 });
    expect(await parse({ limit: '007' })).toMatchObject({ limit: 7 });
    expect(await parse({})).toMatchObject({ limit: 20 });
  });

  it.each(['0x10', ' 5', '5 ', '1e1', '+5', '5.0', '-5', '', '٥', '0b1', 'Infinity', 'abc'])(
    'refuses %j for limit and for page, naming the field',
    async (text) => {
      expect(await refused({ limit: text })).toEqual(['limit']);
      expect(await refused({ page: text })).toEqual(['page']);
    },
  );

  it('refuses a repeated parameter and numbers out of range, naming the field', async () => {
    expect(await refused({ limit: ['5', '6'] })).toEqual(['limit']);
    expect(await refused({ limit: '0' })).toEqual(['limit']);
    expect(await refused({ limit: '101' })).toEqual(['limit']);
    expect(await refused({ page: '0' })).toEqual(['page']);
    expect(await refused({ page: '9'.repeat(400) })).toEqual(['page']);
  });
});

describe('a missing required field', () => {
  class Login {
    @IsString()
    @MinLength(1)
    @MaxLength(128)
    password!: string;

    @IsOptional()
    @IsString()
    note?: string;
  }
  const pipe = new AppValidationPipe();
  const errors = async (body: Record<string, unknown>) => {
    const error: unknown = await Promise.resolve()
      .then(() => pipe.transform(body, { type: 'body', metatype: Login }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    return (error as ApiError).extra.errors;
  };

  it('is said to be required, first and alone, when absent or null', async () => {
    expect(await errors({})).toEqual([{ field: 'password', message: 'password is required' }]);
    expect(await errors({ password: null })).toEqual([
      { field: 'password', message: 'password is required' },
    ]);
  });

  it('keeps its rules for a present value, and an unknown null field is unknown', async () => {
    expect(await errors({ password: 'x'.repeat(129) })).toEqual([
      { field: 'password', message: expect.stringMatching(/128/) },
    ]);
    expect(await errors({ password: 'ok', extra: null })).toEqual([
      { field: 'extra', message: 'unknown field extra' },
    ]);
  });
});
