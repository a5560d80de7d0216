import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The names the deployment's traffic analysis reads (vextrus.deploy.analysis_gate's service_metrics). */
export const REQUESTS_METRIC = 'http_requests_total';
export const DURATION_METRIC = 'http_request_duration_seconds';
export const METRICS_PATH = '/metrics';

/** Paths whose requests are not counted: the probes and the scrape itself are not the service's traffic. */
const NOT_COUNTED = [/^\/health(\/|$)/, /^\/metrics$/];

type Labels = 'method' | 'route' | 'status_code';

/** The service's Prometheus metrics: requests by route, method and status code, their latency, and
 * the Node process's own (CPU, memory, event loop, GC). One registry per application instance. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests: Counter<Labels>;
  private readonly duration: Histogram<Labels>;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: REQUESTS_METRIC,
      help: 'HTTP requests answered, by method, route (the matched route pattern) and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: DURATION_METRIC,
      help: 'Seconds from a request arriving to its answer being sent, by method, route and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }

  /** Records one answered request; `route` is the matched pattern (`/api/v1/accounts/:id`), or
   * `unmatched` for a path no route serves, so that scanning for URLs does not create a series each. */
  record(method: string, path: string, route: string | undefined, status: number, seconds: number): void {
    if (NOT_COUNTED.some((pattern) => pattern.test(path))) {
      return;
    }
    const labels = { method, route: route ?? 'unmatched', status_code: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
