import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';

import type { RunningServer } from '../src/server';
import { get, sleep, start } from './helpers';

describe('health endpoints', () => {
  let server: RunningServer;
  before(async () => {
    server = await start({ version: '3.1.4' });
    await server.ready;
  });
  after(() => server.shutdown('test end'));

  it('GET /health answers status, version and uptime', async () => {
    const { status, body } = await get(server, '/health');
    assert.equal(status, 200);
    const health = body as { status: string; version: string; uptime: number };
    assert.equal(health.status, 'ok');
    assert.equal(health.version, '3.1.4');
    assert.equal(typeof health.uptime, 'number');
    assert.ok(health.uptime > 0);
  });

  it('GET /health/live answers 200', async () => {
    const { status, body } = await get(server, '/health/live');
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ok' });
  });

  it('GET /health/ready answers 200 once started', async () => {
    const { status, body } = await get(server, '/health/ready');
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ready' });
  });

  it('unknown paths are 404', async () => {
    assert.equal((await get(server, '/nope')).status, 404);
  });
});

describe('readiness', () => {
  it('is 503 until STARTUP_DELAY_MS has passed, while /health and /health/live already answer', async () => {
    const server = await start({ startupDelayMs: 400 });
    try {
      const early = await get(server, '/health/ready');
      assert.equal(early.status, 503);
      assert.deepEqual(early.body, { status: 'starting' });
      assert.equal((await get(server, '/health')).status, 200);
      assert.equal((await get(server, '/health/live')).status, 200);
      await server.ready;
      assert.equal((await get(server, '/health/ready')).status, 200);
    } finally {
      await server.shutdown('test end');
    }
  });

  it('turns 503 on shutdown, keeps serving during the drain, then stops accepting', async () => {
    const server = await start({ shutdownDrainMs: 400 });
    await server.ready;
    assert.equal((await get(server, '/health/ready')).status, 200);
    const began = Date.now();
    const closing = server.shutdown('SIGTERM');
    await sleep(50);
    const during = await get(server, '/health/ready');
    assert.equal(during.status, 503);
    assert.deepEqual(during.body, { status: 'shutting-down' });
    assert.equal((await get(server, '/health')).status, 200);
    await closing;
    const took = Date.now() - began;
    assert.ok(took >= 400 && took < 3000, `shutdown took ${took} ms`);
    await assert.rejects(fetch(`${server.url}/health`), TypeError);
  });

  it('never becomes ready when shut down during start-up', async () => {
    const server = await start({ startupDelayMs: 300 });
    await server.shutdown('SIGTERM');
    assert.equal(server.readiness.state, 'shutting-down');
    await sleep(350);
    server.readiness.markReady();
    assert.equal(server.readiness.isReady(), false);
  });
});
