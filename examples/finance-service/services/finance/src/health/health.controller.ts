import { Controller, Get, HttpCode, Inject, ServiceUnavailableException } from '@nestjs/common';

import type { AppConfig } from '../config';
import { APP_CONFIG } from '../tokens';
import { ReadinessService, type ReadinessState } from './readiness.service';

export interface HealthBody {
  status: 'ok';
  version: string;
  /** Seconds since the process started. */
  uptime: number;
}

@Controller('health')
export class HealthController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: ReadinessService,
  ) {}

  @Get()
  @HttpCode(200)
  health(): HealthBody {
    return { status: 'ok', version: this.config.version, uptime: Math.round(process.uptime() * 1000) / 1000 };
  }

  /** Liveness: the event loop answers. Never depends on readiness, so a slow start is not killed. */
  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: 503 while starting and while shutting down, 200 in between. */
  @Get('ready')
  @HttpCode(200)
  ready(): { status: ReadinessState } {
    const state = this.readiness.state;
    if (state !== 'ready') {
      throw new ServiceUnavailableException({ status: state });
    }
    return { status: state };
  }
}
