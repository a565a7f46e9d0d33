import {
  ArgumentMetadata,
  Injectable,
  PipeTransform,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { isUUID } from 'class-validator';
import { FieldError, validationFailed } from './problem';

export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.replace(/^property (\S+) should not exist$/, 'unknown field $1'),
    }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

const options = (forbidUnknown: boolean) =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: forbidUnknown,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationFailed(flattenValidationErrors(errors)),
  });

/**
 * Unknown body fields are rejected (400); unknown query parameters are
 * dropped, so cache busters and tracking parameters do not break a list.
 */
@Injectable()
export class AppValidationPipe implements PipeTransform {
  private readonly strict = options(true);
  private readonly lenient = options(false);

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && metadata.metatype && (value === undefined || value === null)) {
      throw validationFailed([], 'A JSON body is required');
    }
    return (metadata.type === 'body' ? this.strict : this.lenient).transform(value, metadata);
  }
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
