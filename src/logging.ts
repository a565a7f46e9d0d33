import type { Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppConfig } from './config/app-config';

/** Never logged: credentials, tokens, cookies. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
  '*.refresh',
  '*.access',
];

export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      // Fastify already chose the id (the caller's sane X-Request-Id, or a new one).
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id: string }).id,
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        res.statusCode === 503
          ? 'warn'
          : err || res.statusCode >= 500
            ? 'error'
            : res.statusCode >= 400
              ? 'warn'
              : 'info',
      // pino-http makes up an error with a stack for every 5xx; the filter already logged the real one.
      customErrorObject: (
        _req: IncomingMessage,
        res: ServerResponse,
        _err: Error,
        value: Record<string, unknown>,
      ) => ({
        ...value,
        err: undefined,
        statusCode: res.statusCode,
      }),
      quietReqLogger: true,
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}
