import { Injectable } from '@nestjs/common';

export type ReadinessState = 'starting' | 'ready' | 'shutting-down';

/** Whether the instance should receive traffic: only between start-up and shutdown. */
@Injectable()
export class ReadinessService {
  private current: ReadinessState = 'starting';

  get state(): ReadinessState {
    return this.current;
  }

  isReady(): boolean {
    return this.current === 'ready';
  }

  /** Start-up is complete. Ignored once shutdown has begun: a stopping instance never becomes ready again. */
  markReady(): void {
    if (this.current === 'starting') {
      this.current = 'ready';
    }
  }

  markShuttingDown(): void {
    this.current = 'shutting-down';
  }
}
