import { Controller, Get, Query } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { IsOptional, IsString } from 'class-validator';
import { PageQuery } from './pagination';
import { ApiError } from './problem';
import { acceptedQueryParameters, StrictQueryGuard } from './strict-query';

class Filters extends PageQuery {
  @IsOptional()
  @IsString()
  status?: string;
}

@Controller('things')
class ThingsController {
  @Get()
  list(@Query() query: Filters) {
    return query;
  }

  @Get('one')
  one(@Query('format') format?: string) {
    return format;
  }

  @Get('plain')
  plain() {
    return 'ok';
  }
}

const context = (handler: keyof ThingsController, query: Record<string, string>) =>
  new ExecutionContextHost([{ query }, {}], ThingsController, ThingsController.prototype[handler]);

describe('acceptedQueryParameters', () => {
  it("reads a handler's @Query() DTO, its parents' fields included, and @Query('name')", () => {
    const accepted = (handler: string) => [
      ...acceptedQueryParameters(ThingsController.prototype, handler),
    ];
    expect(accepted('list').sort()).toEqual(['cursor', 'limit', 'page', 'status']);
    expect(accepted('one')).toEqual(['format']);
    expect(accepted('plain')).toEqual([]);
  });
});

describe('StrictQueryGuard', () => {
  const guard = new StrictQueryGuard();

  it('lets known parameters through, and a request without any', () => {
    expect(guard.canActivate(context('list', { status: 'a', limit: '5' }))).toBe(true);
    expect(guard.canActivate(context('plain', {}))).toBe(true);
  });

  it('refuses unknown ones with 400 VALIDATION_FAILED naming each', () => {
    const refusal = (() => {
      try {
        guard.canActivate(context('plain', { foo: '1', bar: '2' }));
      } catch (error) {
        return error as ApiError;
      }
    })();
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal!.code).toBe('VALIDATION_FAILED');
    expect(refusal!.extra.errors).toEqual([
      { field: 'foo', message: 'unknown query parameter foo' },
      { field: 'bar', message: 'unknown query parameter bar' },
    ]);
  });
});
