import { describe, expect, it } from 'vitest';
import { ERROR_LOG_BURST, ERROR_LOG_INTERVAL_MS } from '../src/defaults.js';
import { ErrorCode, Method } from '../src/index.js';
import { ErrorLog } from '../src/turn/error-log.js';
import { CoreClient, T0, errorCode, makeCore } from './helpers/core-harness.js';
import { recordingLogger } from './helpers/recording-logger.js';

describe('ErrorLog: rate-limited error lines (issue 13 item 7)', () => {
  it(`logs a burst of ${ERROR_LOG_BURST}, then one per interval carrying the suppressed count`, () => {
    const logger = recordingLogger();
    let now = T0;
    const log = new ErrorLog(logger, () => now);
    for (let i = 0; i < 1000; i++) log.error({ i }, 'boom');
    expect(logger.at('error')).toHaveLength(ERROR_LOG_BURST);
    now += ERROR_LOG_INTERVAL_MS;
    log.error({ i: 1000 }, 'boom');
    expect(logger.at('error')).toHaveLength(ERROR_LOG_BURST + 1);
    expect(logger.at('error').at(-1)?.obj).toEqual({ i: 1000, suppressed: 1000 - ERROR_LOG_BURST });
    log.error({ i: 1001 }, 'boom');
    expect(logger.at('error')).toHaveLength(ERROR_LOG_BURST + 1);
  });

  it('the core answers every request hitting an internal fault with 500 but logs only the burst', () => {
    const logger = recordingLogger();
    const h = makeCore({}, logger);
    const { core } = h;
    // A fault inside a handler, standing in for a bug a packet could trigger.
    core.allocationOn = () => {
      throw new Error('simulated fault');
    };
    const client = CoreClient.rest(h);
    client.challenge();
    for (let i = 0; i < 200; i++) expect(errorCode(client.request(Method.Refresh))).toBe(ErrorCode.ServerError);
    expect(logger.at('error')).toHaveLength(ERROR_LOG_BURST);
  });
});
