import { beforeAll, describe, expect, it } from 'vitest';
import { readErrorBody, sendThrough, type SendRequest } from '../support/requests.ts';
import { captureLogs, createLoadedApp, createSentimentHost } from '../observability/serving-fixtures.ts';

/** Issue 16, defect 9: a body in another charset is refused rather than read as UTF-8. */
describe('the charset of a JSON body', () => {
  let send: SendRequest;
  beforeAll(async () => {
    send = sendThrough((await createLoadedApp({ functions: [createSentimentHost('classify')], logger: captureLogs().logger })).fetch);
  });
  const post = (contentType: string, body: BodyInit = '{"inputs": "I love this"}') => send('/classify', { method: 'POST', headers: { 'content-type': contentType }, body });

  it.each(['application/json; charset=latin1', 'application/json; charset=iso-8859-1', 'application/json;charset=utf-16', 'application/json; charset="windows-1252"', 'application/json; charset='])(
    '%s is refused 415, naming UTF-8',
    async (contentType) => {
      const response = await post(contentType, Buffer.from([...Buffer.from('{"inputs": "caf'), 0xe9, ...Buffer.from('"}')]));
      expect(response.status).toBe(415);
      expect((await readErrorBody(response)).message).toContain('utf-8');
    },
  );

  it.each(['application/json', 'application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'Application/JSON;charset=utf8'])('%s is read', async (contentType) => {
    expect((await post(contentType)).status).toBe(200);
  });
});
