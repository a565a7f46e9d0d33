import 'reflect-metadata';
import { DynamicModule, LoggerService, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ApiError } from '../common/problem';
import { flattenValidationErrors } from '../common/validation';
import { AppConfigModule } from '../config/config.module';
import { AuditModule } from '../audit/audit.module';
import { DatabaseModule } from '../database/database.module';
import { CreateUserDto } from '../users/dto/users.dto';
import { Role } from '../identity/role';
import { UsersModule } from '../users/users.module';
import { adminPasswordBanner, UsersService } from '../users/users.service';

/**
 * Creates a user from the command line, with the API's validation and
 * hashing (UsersService), on DATABASE_URL or the embedded database:
 *
 *   npm run user:create -- --username NAME --role admin|teller|customer [--client-id UUID] [--password PW]
 *
 * Without --password the password comes from NEW_USER_PASSWORD, else a random
 * one is generated and printed once. Prints one line of JSON on stdout;
 * everything else goes to stderr. Exit code 0 on success, 1 on any failure.
 */

const USAGE = `Usage: npm run user:create -- --username NAME --role admin|teller|customer [--client-id UUID] [--password PW]

  --username   1 to 150 letters, digits or _ . @ + - (unique, case-insensitively)
  --role       admin, teller or customer
  --client-id  the client a customer belongs to (required for a customer, refused for staff)
  --password   12 to 128 characters; default: $NEW_USER_PASSWORD, else a random one printed once

From the build: npm run user:create:prod -- ... (node dist/cli/create-user.js ...).
Uses DATABASE_URL, or the embedded database in DATA_DIR (which must not be in use by a running server).`;

const FLAGS: Record<string, string> = {
  username: '--username',
  password: '--password',
  role: '--role',
  clientId: '--client-id',
};

/** A failure to report as one clear message (no stack trace). */
class CliError extends Error {}

/** Nest's logs on stderr, so stdout carries only the JSON result. No stack traces. */
class CliLogger implements LoggerService {
  /** Set when UsersService created the first admin (the database had no user). */
  adminBootstrapped = false;

  log(message: unknown, ...rest: unknown[]): void {
    // Only where the embedded database lives is worth telling here.
    if (contextOf(rest) === 'Database') this.print(message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    // The first admin's password when the database had no user: shown as the server shows it.
    if (contextOf(rest) === 'UsersService') this.adminBootstrapped = true;
    this.print(message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    // Nest's exception handler repeats a startup error that main() reports itself.
    if (contextOf(rest) === 'ExceptionHandler') return;
    this.print(message, rest);
  }

  debug(): void {}
  verbose(): void {}
  fatal(message: unknown, ...rest: unknown[]): void {
    this.error(message, ...rest);
  }

  private print(message: unknown, rest: unknown[]): void {
    const context = contextOf(rest);
    const text = message instanceof Error ? message.message : String(message);
    process.stderr.write(`${context ? `[${context}] ` : ''}${text}\n`);
  }
}

function contextOf(rest: unknown[]): string | undefined {
  const last = rest[rest.length - 1];
  return typeof last === 'string' && !last.includes('\n') ? last : undefined;
}

@Module({})
class CreateUserCliModule {
  static register(): DynamicModule {
    // UsersModule brings UsersService with its dependencies (PasswordService for argon2id; the
    // audit log, which records the user's creation);
    // an application context instantiates them without any HTTP server.
    return {
      module: CreateUserCliModule,
      imports: [AppConfigModule.register(), DatabaseModule, AuditModule, UsersModule],
    };
  }
}

interface Input {
  dto: CreateUserDto;
  generatedPassword: boolean;
}

/** Parses and validates the arguments as the API validates a POST /api/v1/users body. */
async function readInput(argv: string[]): Promise<Input | 'help'> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        username: { type: 'string' },
        role: { type: 'string' },
        'client-id': { type: 'string' },
        password: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return 'help';

  const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);
  const username = str(values.username);
  const role = str(values.role);
  const clientId = str(values['client-id']);
  const problems: string[] = [];
  if (username === undefined) problems.push('--username is required');
  if (role === undefined) problems.push('--role is required (admin, teller or customer)');
  if (problems.length > 0) throw new CliError(invalid(problems, true));

  let password = str(values.password);
  if (password === undefined && process.env.NEW_USER_PASSWORD)
    password = process.env.NEW_USER_PASSWORD;
  const generatedPassword = password === undefined;
  if (password === undefined) password = randomBytes(18).toString('base64url'); // 24 characters

  // CreateUserDto carries the API's rules: USERNAME_PATTERN, password 12..128, role, clientId a UUID.
  const dto = plainToInstance(CreateUserDto, { username, password, role, clientId });
  const errors = await validate(dto, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: true },
  });
  for (const e of flattenValidationErrors(errors))
    problems.push(`${FLAGS[e.field] ?? e.field}: ${e.message}`);
  // The API's role/client rule (UsersService checks it again, with the client's existence).
  if (role === Role.Customer && !clientId)
    problems.push('--client-id: a customer needs a clientId');
  if (role !== Role.Customer && clientId && Object.values(Role).includes(role as Role)) {
    problems.push(`--client-id: a ${role} must not have a clientId`);
  }
  if (problems.length > 0) throw new CliError(invalid(problems, false));
  return { dto, generatedPassword };
}

function invalid(problems: string[], withUsage: boolean): string {
  const list = problems.map((p) => `  - ${p}`).join('\n');
  return `invalid input:\n${list}${withUsage ? `\n\n${USAGE}` : ''}`;
}

function describe(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof ApiError) {
    const fields = (error.extra.errors ?? []).map(
      (e) => `${FLAGS[e.field] ?? e.field}: ${e.message}`,
    );
    if (error.code === 'VALIDATION_FAILED' && fields.length > 0) return invalid(fields, false);
    return [error.message, ...fields.map((f) => `  - ${f}`)].join('\n');
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

async function main(argv: string[]): Promise<number> {
  const input = await readInput(argv);
  if (input === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = new CliLogger();
  const app = await NestFactory.createApplicationContext(CreateUserCliModule.register(), {
    logger,
    abortOnError: false,
  });
  try {
    // The application context has already run UsersService's bootstrap (first admin on an empty database).
    const user = await app.get(UsersService).create(input.dto);
    if (input.generatedPassword) {
      process.stderr.write(
        `Generated password for "${user.username}" (shown only once): ${input.dto.password}\n`,
      );
    }
    const adminPassword = app.get(UsersService).takeGeneratedAdminPassword();
    if (adminPassword) process.stderr.write(adminPasswordBanner(adminPassword));
    if (logger.adminBootstrapped) {
      process.stderr.write(
        'The database had no user, so the first user "admin" was created too (see above).\n',
      );
    }
    process.stdout.write(
      `${JSON.stringify({ id: user.id, username: user.username, role: user.role, clientId: user.clientId })}\n`,
    );
    return 0;
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`create-user: ${describe(error)}\n`);
    process.exit(1);
  },
);
