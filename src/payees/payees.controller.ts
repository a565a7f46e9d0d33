import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, AuthUser, CurrentUser } from '../auth';
import { ApiProblems } from '../common/api-problems';
import { PayeeVerificationDto, VerifyPayeeDto } from './dto/payees.dto';
import { PAYEE_VERIFICATION_LIMIT, PayeesService } from './payees.service';

@ApiTags('payees')
@Controller('api/v1/payees')
export class PayeesController {
  constructor(private readonly payees: PayeesService) {}

  /**
   * Checks a payee's name against the holders of the account behind a
   * number, before paying it: match, close_match (with the holder's name),
   * no_match or not_possible. At most 30 an hour per user.
   */
  @Auth()
  @Post('verify')
  @HttpCode(200)
  @ApiOkResponse({ type: PayeeVerificationDto })
  @ApiProblems(
    [
      400,
      'VALIDATION_FAILED: a malformed account number (length, check digit), a missing name, an unknown field',
    ],
    [
      429,
      `TOO_MANY_REQUESTS: ${PAYEE_VERIFICATION_LIMIT.perUser} verifications within the last ` +
        `${PAYEE_VERIFICATION_LIMIT.windowSeconds / 60} minutes; retry after Retry-After seconds`,
    ],
  )
  verify(
    @CurrentUser() user: AuthUser,
    @Body() dto: VerifyPayeeDto,
  ): Promise<PayeeVerificationDto> {
    return this.payees.verify(user, dto);
  }
}
