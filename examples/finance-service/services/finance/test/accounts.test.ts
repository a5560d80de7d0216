import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';

import type { RunningServer } from '../src/server';
import { get, start, token } from './helpers';

describe('GET /api/v1/accounts', () => {
  let server: RunningServer;
  before(async () => {
    server = await start();
    await server.ready;
  });
  after(() => server.shutdown('test end'));

  const bearer = (jwt: string): Record<string, string> => ({ authorization: `Bearer ${jwt}` });

  it('is 401 without a token', async () => {
    const { status, body } = await get(server, '/api/v1/accounts');
    assert.equal(status, 401);
    assert.match((body as { message: string }).message, /missing bearer token/);
  });

  it('is 401 with a malformed authorization header', async () => {
    assert.equal((await get(server, '/api/v1/accounts', { authorization: 'Basic dXNlcjpwdw==' })).status, 401);
    assert.equal((await get(server, '/api/v1/accounts', bearer('not-a-jwt'))).status, 401);
  });

  it('is 401 with a token signed by another secret', async () => {
    assert.equal((await get(server, '/api/v1/accounts', bearer(token({ sub: 'u1' }, { secret: 'other' })))).status, 401);
  });

  it('is 401 with an expired token', async () => {
    const expired = token({ sub: 'u1', iat: 1_000_000, exp: 1_000_060 });
    const { status, body } = await get(server, '/api/v1/accounts', bearer(expired));
    assert.equal(status, 401);
    assert.match((body as { message: string }).message, /invalid or expired token/);
  });

  it('is 401 for alg "none" and for algorithms other than HS256', async () => {
    assert.equal((await get(server, '/api/v1/accounts', bearer(token({ sub: 'u1' }, { alg: 'none' })))).status, 401);
    assert.equal((await get(server, '/api/v1/accounts', bearer(token({ sub: 'u1' }, { alg: 'HS512' })))).status, 401);
  });

  it('is 200 with a valid HS256 token and lists accounts with exact balances', async () => {
    const { status, body } = await get(server, '/api/v1/accounts', bearer(token({ sub: 'u1' })));
    assert.equal(status, 200);
    assert.ok(Array.isArray(body));
    const accounts = body as Array<{ id: string; balance: { currency: string; amount: string; minorUnits: number } }>;
    assert.equal(accounts.length, 3);
    const cash = accounts.find((a) => a.id === 'acc-1001');
    assert.deepEqual(cash?.balance, { currency: 'BDT', amount: '248749.55', minorUnits: 24874955 });
    const revenue = accounts.find((a) => a.id === 'acc-4001');
    assert.deepEqual(revenue?.balance, { currency: 'USD', amount: '2120.50', minorUnits: 212050 });
  });

  it('health endpoints need no token', async () => {
    assert.equal((await get(server, '/health')).status, 200);
  });
});
