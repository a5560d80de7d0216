import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { SECRET, sleep } from './helpers';

const MAIN = join(__dirname, '..', 'src', 'main.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(env: Record<string, string>, whileRunning?: (port: number) => Promise<void>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let started = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const listening = /listening on port (\d+)/.exec(stdout);
      if (!started && whileRunning && listening) {
        started = true;
        whileRunning(Number(listening[1])).then(
          () => child.kill('SIGTERM'),
          (error: unknown) => {
            child.kill('SIGKILL');
            reject(error);
          },
        );
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('the main entry point', () => {
  it('exits 1 at once with a clear message when JWT_SECRET is missing', async () => {
    const began = Date.now();
    const result = await run({ PORT: '0' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^finance: cannot start: JWT_SECRET is not set/);
    assert.ok(Date.now() - began < 5000);
  });

  it('serves, then exits 0 within a few seconds of SIGTERM', async () => {
    let readyDuringRun = 0;
    const began = Date.now();
    const result = await run(
      { PORT: '0', JWT_SECRET: SECRET, SHUTDOWN_DRAIN_MS: '200', APP_VERSION: '7.7.7' },
      async (port) => {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        assert.equal(response.status, 200);
        assert.equal(((await response.json()) as { version: string }).version, '7.7.7');
        for (let i = 0; i < 50 && readyDuringRun !== 200; i++) {
          readyDuringRun = (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
          await sleep(20);
        }
      },
    );
    assert.equal(readyDuringRun, 200);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /SIGTERM: not ready any more/);
    assert.match(result.stdout, /closed/);
    assert.ok(Date.now() - began < 8000);
  });
});
