import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { endEarly } from '../common/request-end';
import { StatementStopped, StatementStream } from './operations-query.service';

const logger = new Logger('Statements');

/**
 * A statement as an HTTP answer: read one chunk at a time (the next batch
 * is read once the client has taken the last), and bounded in what it may
 * hold on a client's behalf:
 *
 * - a reader that takes nothing for `idleSeconds` is cut off: the socket's
 *   own timeout, which every write the kernel accepts renews, so it also
 *   covers the last bytes after the statement's end;
 * - a statement stopped early (the reader's right ended, a database error)
 *   destroys the answer: the chunked body ends without its final chunk, so
 *   the client sees it is incomplete;
 * - the reader's statement slot is freed when the answer ends, however.
 */
export function statementAnswer(
  res: ServerResponse,
  statement: StatementStream,
  idleSeconds: number,
  requestId: string,
): Readable {
  const stream = Readable.from(statement.chunks, { objectMode: false, highWaterMark: 1 });
  res.once('close', () => void statement.release());
  res.setTimeout(idleSeconds * 1000, () => {
    endEarly(res, 'aborted', 'idle_timeout');
    res.destroy();
  });
  stream.once('error', (error) => {
    if (error instanceof StatementStopped) {
      endEarly(res, 'failed', error.reason);
      return;
    }
    endEarly(res, 'failed', 'error');
    logger.error(
      { err: { type: error.name, message: error.message }, reqId: requestId },
      'A statement failed mid-stream; its answer ends incomplete',
    );
  });
  return stream;
}
