import type { IncomingMessage, ServerResponse } from 'node:http';

import type { MetricsService } from './metrics.service';

/** What Express adds to a request that this middleware reads. */
interface RoutedRequest extends IncomingMessage {
  path?: string;
  baseUrl?: string;
  route?: { path?: string };
}

/** HTTP middleware that records every request once its answer has been sent. The route is the
 * pattern the router matched (set on the request while it was routed), so ids in paths do not
 * multiply the series. */
export function recordRequests(metrics: MetricsService) {
  return (request: RoutedRequest, response: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = request.route?.path;
      const pattern = route === undefined ? undefined : `${request.baseUrl ?? ''}${route}`;
      const path = request.path ?? new URL(request.url ?? '/', 'http://service').pathname;
      metrics.record(request.method ?? 'GET', path, pattern, response.statusCode, seconds);
    });
    next();
  };
}
