import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';

import type { RunningServer } from '../src/server';
import { get, start, token } from './helpers';

/** The value of one sample line of the exposition text, or undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] === name && match[2].split(',').sort().join(',') === wanted.join(',')) {
      return Number(match[3]);
    }
  }
  return undefined;
}

async function scrape(server: RunningServer): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${server.url}/metrics`);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

describe('metrics', () => {
  let server: RunningServer;
  before(async () => {
    server = await start();
    await server.ready;
  });
  after(() => server.shutdown('test end'));

  it('GET /metrics answers the Prometheus text format with the process metrics', async () => {
    const { status, type, text } = await scrape(server);
    assert.equal(status, 200);
    assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
    assert.match(text, /^# TYPE http_requests_total counter$/m);
    assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
  });

  it('counts answers by method, route pattern and status code, and times them', async () => {
    const bearer = { authorization: `Bearer ${token({ sub: 'metrics-test' })}` };
    assert.equal((await get(server, '/api/v1/accounts', bearer)).status, 200);
    assert.equal((await get(server, '/api/v1/accounts', bearer)).status, 200);
    assert.equal((await get(server, '/api/v1/accounts')).status, 401);
    assert.equal((await get(server, '/no/such/path/42')).status, 404);
    const { text } = await scrape(server);
    const route = '/api/v1/accounts';
    assert.equal(sample(text, 'http_requests_total', { method: 'GET', route, status_code: '200' }), 2);
    assert.equal(sample(text, 'http_requests_total', { method: 'GET', route, status_code: '401' }), 1);
    assert.equal(sample(text, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' }), 1);
    assert.equal(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route, status_code: '200' }), 2);
    assert.equal(sample(text, 'http_request_duration_seconds_bucket', { method: 'GET', route, status_code: '200', le: '+Inf' }), 2);
    const sum = sample(text, 'http_request_duration_seconds_sum', { method: 'GET', route, status_code: '200' });
    assert.ok(sum !== undefined && sum > 0 && sum < 5, `duration sum ${sum}`);
  });

  it('does not count the probes and the scrapes', async () => {
    await get(server, '/health');
    await get(server, '/health/ready');
    await scrape(server);
    const { text } = await scrape(server);
    assert.doesNotMatch(text, /route="\/health/);
    assert.doesNotMatch(text, /route="\/metrics"/);
  });
});
