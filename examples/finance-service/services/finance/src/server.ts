// @nestjs/core first, as in any Nest entry point: it loads reflect-metadata
// itself before any decorated class of this service is evaluated.
import { NestFactory } from '@nestjs/core';
import { ConsoleLogger, type INestApplication, Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import 'reflect-metadata';

import type { AddressInfo } from 'node:net';

import { AppModule } from './app.module';
import type { AppConfig } from './config';
import { ReadinessService } from './health/readiness.service';
import { recordRequests } from './metrics/metrics.middleware';
import { MetricsService } from './metrics/metrics.service';

export interface RunningServer {
  app: INestApplication;
  /** Base URL, e.g. http://127.0.0.1:3014 */
  url: string;
  port: number;
  readiness: ReadinessService;
  /** Resolves once /health/ready answers 200 (after STARTUP_DELAY_MS). */
  ready: Promise<void>;
  /** Graceful stop: ready → 503, wait the drain time, stop accepting, finish in-flight requests. */
  shutdown(reason: string): Promise<void>;
}

export interface StartOptions {
  logger?: LoggerService | LogLevel[] | false;
}

/** Starts the HTTP server. Readiness turns 200 after config.startupDelayMs. */
export async function startServer(config: AppConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = new Logger('finance');
  const app = await NestFactory.create(AppModule.forRoot(config), {
    // Plain lines (no colour codes) unless a terminal is attached: they end up in pod logs.
    logger:
      options.logger ??
      new ConsoleLogger({ logLevels: ['log', 'warn', 'error', 'fatal'], colors: Boolean(process.stdout.isTTY) }),
  });
  const readiness = app.get(ReadinessService);
  // before the routes, so that every answer is counted, those of guards and unknown paths included
  app.use(recordRequests(app.get(MetricsService)));

  if (config.host === undefined) {
    await app.listen(config.port);
  } else {
    await app.listen(config.port, config.host);
  }
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '[::]' || host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  log.log(`version ${config.version} listening on port ${address.port}`);

  let readyTimer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve) => {
    const markReady = (): void => {
      readiness.markReady();
      if (readiness.isReady()) {
        log.log('ready');
      }
      resolve();
    };
    if (config.startupDelayMs > 0) {
      log.log(`readiness delayed by ${config.startupDelayMs} ms (STARTUP_DELAY_MS)`);
      readyTimer = setTimeout(markReady, config.startupDelayMs);
    } else {
      markReady();
    }
  });

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    closing ??= (async () => {
      clearTimeout(readyTimer);
      readiness.markShuttingDown();
      log.log(`${reason}: not ready any more; closing in ${config.shutdownDrainMs} ms`);
      if (config.shutdownDrainMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs));
      }
      await app.close();
      log.log('closed');
    })();
    return closing;
  };

  return { app, url, port: address.port, readiness, ready, shutdown };
}
