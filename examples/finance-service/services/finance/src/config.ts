import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEFAULT_PORT = 3014;

export interface AppConfig {
  /** TCP port to listen on (env PORT, default 3014). */
  port: number;
  /** Interface to bind (env HOST); undefined means every interface. */
  host?: string;
  /** HS256 secret for bearer tokens (env JWT_SECRET, required). */
  jwtSecret: string;
  /** Reported by GET /health (env APP_VERSION, else the package version). */
  version: string;
  /** Extra time after listening before /health/ready answers 200 (env STARTUP_DELAY_MS). */
  startupDelayMs: number;
  /** Time between SIGTERM (ready → 503) and closing the listener (env SHUTDOWN_DRAIN_MS). */
  shutdownDrainMs: number;
  /** Hard limit for a graceful shutdown before the process exits anyway (env SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/** The version in this service's package.json (found by walking up from the compiled file). */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'finance' && typeof manifest.version === 'string') {
        return manifest.version;
      }
    }
    if (dirname(dir) === dir) {
      return '0.0.0-unknown';
    }
  }
}

/** Reads and checks the configuration; throws ConfigError with a message fit for an operator. */
export function loadConfig(env: Env = process.env): AppConfig {
  const jwtSecret = env.JWT_SECRET;
  if (jwtSecret === undefined || jwtSecret.trim() === '') {
    throw new ConfigError(
      'JWT_SECRET is not set: the service signs nothing itself but must verify HS256 bearer tokens; ' +
        'provide the shared secret in the JWT_SECRET environment variable',
    );
  }
  const appVersion = env.APP_VERSION?.trim();
  return {
    port: integer(env, 'PORT', DEFAULT_PORT, 0, 65535),
    host: env.HOST?.trim() || undefined,
    jwtSecret,
    version: appVersion || packageVersion(),
    startupDelayMs: integer(env, 'STARTUP_DELAY_MS', 0, 0, 3_600_000),
    shutdownDrainMs: integer(env, 'SHUTDOWN_DRAIN_MS', 1000, 0, 600_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 8000, 100, 600_000),
  };
}
