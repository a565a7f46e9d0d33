import {
  applyDecorators,
  ArgumentMetadata,
  Injectable,
  PipeTransform,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { plainToInstance, Transform } from 'class-transformer';
import { IsUUID, isUUID, ValidateBy, validateSync, ValidationOptions } from 'class-validator';
import { ApiError, FieldError, validationFailed } from './problem';

/**
 * One `{ field, message }` per failed rule, nested fields as `a.b`. A required
 * field that is missing (or null) says only that: `password is required`,
 * not every rule an absent value fails. class-validator skips an optional
 * field's rules when it is absent, so failed rules on an absent value mean
 * it is required. The value (validationError.value) is read for that test
 * only, never shown.
 */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    if (
      'value' in error &&
      (error.value === undefined || error.value === null) &&
      !('whitelistValidation' in constraints) &&
      Object.keys(constraints).length > 0
    ) {
      return [{ field, message: `${field} is required` }];
    }
    const own = Object.values(constraints).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'unknown field $1'),
    }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** The body of a request that sent an empty body of another type than JSON. */
export const EMPTY_NON_JSON_BODY = Symbol('empty non-JSON body');

const options = (forbidUnknown: boolean) =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: forbidUnknown,
    forbidUnknownValues: true,
    transform: true,
    // The value tells a missing field from a bad one (flattenValidationErrors); never shown.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => validationFailed(flattenValidationErrors(errors)),
  });

/**
 * Unknown body fields are rejected (400); unknown query parameters never get
 * here, StrictQueryGuard has refused them (on every route, with or without a
 * query DTO), so the query's DTO is only whitelisted.
 * A missing or empty body is `{}` where every field is optional; elsewhere
 * it is 400, or 415 when it came as another type than JSON.
 */
@Injectable()
export class AppValidationPipe implements PipeTransform {
  private readonly strict = options(true);
  private readonly lenient = options(false);
  private readonly optionalOnly = new WeakMap<object, boolean>();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    // Path ids have their own pipe (ParseIdPipe); the caller and similar come from guards.
    if (metadata.type === 'param' || metadata.type === 'custom') return value;
    const nul = metadata.type === 'body' || metadata.type === 'query' ? nulAt(value) : null;
    if (nul !== null) {
      const field = nul || metadata.data || metadata.type;
      throw validationFailed([
        { field, message: `${field} must not contain the character U+0000` },
      ]);
    }
    if (metadata.type !== 'body') return this.lenient.transform(value, metadata);
    if (metadata.metatype && (value === undefined || value === EMPTY_NON_JSON_BODY)) {
      if (this.allOptional(metadata.metatype)) return this.strict.transform({}, metadata);
      if (value === EMPTY_NON_JSON_BODY) {
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Request bodies must be application/json');
      }
      throw validationFailed([], 'A JSON body is required');
    }
    if (metadata.metatype && value === null) throw validationFailed([], 'A JSON body is required');
    return this.strict.transform(value, metadata);
  }

  /** Whether `{}` is a valid body of this DTO class: no field is required. */
  private allOptional(metatype: new () => object): boolean {
    let known = this.optionalOnly.get(metatype);
    if (known === undefined) {
      known =
        validateSync(plainToInstance(metatype, {}), { forbidUnknownValues: true }).length === 0;
      this.optionalOnly.set(metatype, known);
    }
    return known;
  }
}

/**
 * The path (`a.b[2]`; '' for the value itself) of the first string in a
 * request's body or query that holds U+0000, which PostgreSQL refuses in
 * text; null when there is none. Bodies are at most MAX_JSON_DEPTH deep.
 * The path is only written for a value that has one (every request is read).
 */
export function nulAt(value: unknown): string | null {
  const found = nulPath(value);
  if (found === null) return null;
  return found
    .reverse()
    .map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`))
    .join('');
}

/** The steps to the first NUL, innermost first, or null. */
function nulPath(value: unknown): Array<string | number> | null {
  if (typeof value === 'string') return value.includes('\u0000') ? [] : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i]);
      if (found !== null) return [...found, i];
    }
  } else if (value !== null && typeof value === 'object') {
    for (const key in value) {
      if (key.includes('\u0000')) return [key];
      const found = nulPath((value as Record<string, unknown>)[key]);
      if (found !== null) return [...found, key];
    }
  }
  return null;
}

/** A path id must be a UUID: anything else is 400, not 404. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (!isUUID(value)) {
      const field = metadata.data ?? 'id';
      throw validationFailed(
        [{ field, message: `${field} must be a UUID` }],
        `${field} is not a valid id`,
      );
    }
    return value.toLowerCase();
  }
}

const lower = (value: unknown): unknown =>
  typeof value === 'string'
    ? value.toLowerCase()
    : Array.isArray(value)
      ? value.map((v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v))
      : value;

/**
 * A UUID field of a body or query, in any letter case, kept lower-case as the
 * database writes it: ids given in two cases are then the same id to every
 * later comparison (same account twice, duplicate holders).
 */
export function IsId(options?: ValidationOptions) {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => lower(value)),
    IsUUID('all', options),
  );
}

/**
 * A whole number of a query string, written in decimal digits only (^[0-9]+$),
 * from `min` to `max`. Number() would also read `0x10`, ` 5`, `1e1`, `+5` and
 * `5.0`: such a value stays a string and is refused, with one message naming
 * the field, as is a number out of range.
 */
export function DecimalInt(min: number, max = Infinity) {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value,
    ),
    ValidateBy({
      name: 'decimalInt',
      validator: {
        validate: (value: unknown) => typeof value === 'number' && value >= min && value <= max,
        defaultMessage: (args) =>
          typeof args?.value !== 'number'
            ? `${args?.property} must be a whole number written in decimal digits`
            : max === Infinity
              ? `${args.property} must be at least ${min}`
              : `${args.property} must be from ${min} to ${max}`,
      },
    }),
  );
}
