import { createHmac } from 'node:crypto';

import type { AppConfig } from '../src/config';
import { type RunningServer, startServer } from '../src/server';

export const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    jwtSecret: SECRET,
    version: '9.9.9-test',
    startupDelayMs: 0,
    shutdownDrainMs: 0,
    shutdownTimeoutMs: 5000,
    ...overrides,
  };
}

export function start(overrides: Partial<AppConfig> = {}): Promise<RunningServer> {
  return startServer(testConfig(overrides), { logger: false });
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Builds a JWT by hand, so tests control every part of it (alg, signature, expiry). */
export function token(
  payload: Record<string, unknown>,
  { secret = SECRET, alg = 'HS256' }: { secret?: string; alg?: 'HS256' | 'HS512' | 'none' } = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64url(JSON.stringify({ iat: now, exp: now + 300, ...payload }));
  if (alg === 'none') {
    return `${head}.${body}.`;
  }
  const hash = alg === 'HS256' ? 'sha256' : 'sha512';
  const signature = createHmac(hash, secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

export async function get(
  server: RunningServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
