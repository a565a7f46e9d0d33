import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES } from './problem';

export class FieldErrorDto {
  @ApiProperty({ example: 'password' })
  field!: string;

  @ApiProperty({ example: 'password must be longer than or equal to 12 characters' })
  message!: string;
}

/** RFC 9457 problem details (application/problem+json). */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'urn:problem-type:validation-failed' })
  type!: string;

  @ApiProperty({ example: 'Bad Request' })
  title!: string;

  @ApiProperty({ example: 400 })
  status!: number;

  @ApiProperty({ example: 'The request is not valid' })
  detail!: string;

  @ApiProperty({ enum: Object.keys(ERROR_CODES), example: 'VALIDATION_FAILED' })
  code!: string;

  @ApiProperty({ example: '/api/v1/auth/login' })
  instance!: string;

  @ApiProperty({
    description: 'Also in the X-Request-Id header and in the logs',
    example: 'b3c1f0e2-5d7a-4c1e-9f0a-2b8e4d6c8a10',
  })
  requestId!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}
