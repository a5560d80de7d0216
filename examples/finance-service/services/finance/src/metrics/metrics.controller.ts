import { Controller, Get, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';

import { MetricsService } from './metrics.service';

/** GET /metrics: the Prometheus exposition format (the service shape's metrics_path). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  async scrape(@Res() response: ServerResponse): Promise<void> {
    const { contentType, body } = await this.metrics.exposition();
    response.statusCode = 200;
    response.setHeader('Content-Type', contentType);
    response.end(body);
  }
}
