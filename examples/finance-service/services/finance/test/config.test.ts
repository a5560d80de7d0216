import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { ConfigError, DEFAULT_PORT, loadConfig, packageVersion } from '../src/config';

describe('loadConfig', () => {
  it('refuses to start without JWT_SECRET, naming the variable', () => {
    for (const env of [{}, { JWT_SECRET: '' }, { JWT_SECRET: '   ' }]) {
      assert.throws(() => loadConfig(env), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /JWT_SECRET is not set/);
        return true;
      });
    }
  });

  it('applies defaults', () => {
    const config = loadConfig({ JWT_SECRET: 's' });
    assert.equal(config.port, DEFAULT_PORT);
    assert.equal(config.port, 3014);
    assert.equal(config.host, undefined);
    assert.equal(config.startupDelayMs, 0);
    assert.equal(config.version, packageVersion());
    assert.match(config.version, /^\d+\.\d+\.\d+/);
  });

  it('reads PORT, APP_VERSION and the timing variables', () => {
    const config = loadConfig({
      JWT_SECRET: 's',
      PORT: '8080',
      HOST: '127.0.0.1',
      APP_VERSION: '2.0.0-rc.1',
      STARTUP_DELAY_MS: '1500',
      SHUTDOWN_DRAIN_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '3000',
    });
    assert.deepEqual(
      [config.port, config.host, config.version, config.startupDelayMs, config.shutdownDrainMs, config.shutdownTimeoutMs],
      [8080, '127.0.0.1', '2.0.0-rc.1', 1500, 0, 3000],
    );
  });

  it('rejects malformed numbers with the variable name', () => {
    assert.throws(() => loadConfig({ JWT_SECRET: 's', PORT: 'http' }), /PORT must be an integer/);
    assert.throws(() => loadConfig({ JWT_SECRET: 's', PORT: '70000' }), /PORT/);
    assert.throws(() => loadConfig({ JWT_SECRET: 's', STARTUP_DELAY_MS: '-1' }), /STARTUP_DELAY_MS/);
    assert.throws(() => loadConfig({ JWT_SECRET: 's', STARTUP_DELAY_MS: '1.5' }), /STARTUP_DELAY_MS/);
  });

  it('finds the version of the finance package', () => {
    assert.equal(packageVersion(), require('../../package.json').version);
  });
});
