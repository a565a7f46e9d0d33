import { Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { finished, Readable } from 'node:stream';
import { endEarly } from '../common/request-end';
import { StatementStopped, StatementStream } from './operations-query.service';

const logger = new Logger('Statements');

/**
 * A statement as an HTTP answer: read one chunk at a time (the next is read
 * once the client has taken the last), and bounded in what it may hold on a
 * client's behalf:
 *
 * - a reader that takes nothing for `idleSeconds` is cut off. The clock
 *   runs while a chunk waits to be taken: from each chunk given to the
 *   response until the response asks for the next (it asks once the kernel
 *   has taken what it had), and after the last until the whole answer has
 *   gone out. Bytes the client sends do not count, nor does the time a batch
 *   takes to read;
 * - a statement stopped early (the reader's right ended, a database error)
 *   destroys the answer: the chunked body ends without its final chunk, so
 *   the client sees it is incomplete;
 * - the reader's statement slot is freed when the answer ends, however, and
 *   at once if its client has already gone.
 */
export function statementAnswer(
  res: ServerResponse,
  statement: StatementStream,
  idleSeconds: number,
  requestId: string,
): Readable {
  const chunks = statement.chunks[Symbol.asyncIterator]();
  let waiting: NodeJS.Timeout | undefined;
  const cutOff = () => {
    endEarly(res, 'aborted', 'idle_timeout');
    res.destroy();
  };
  const wait = () => {
    clearTimeout(waiting);
    waiting = setTimeout(cutOff, idleSeconds * 1000);
  };
  const taken = () => clearTimeout(waiting);
  let reading = false;
  const stream = new Readable({
    highWaterMark: 1,
    read() {
      taken();
      if (reading) return;
      reading = true;
      chunks.next().then(
        ({ value, done }) => {
          reading = false;
          if (done) {
            stream.push(null);
            wait();
          } else if (stream.push(value)) {
            // The response asks for more at once: it had room.
          } else {
            wait();
          }
        },
        (error: Error) => stream.destroy(error),
      );
    },
    destroy(error, callback) {
      taken();
      void chunks.return?.();
      callback(error);
    },
  });
  res.once('finish', taken);
  finished(res, () => {
    taken();
    void statement.release();
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
