import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: Record<string, unknown>;
}

const BEARER = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

/** Lets a request through only with a valid, unexpired HS256 bearer token. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(private readonly jwt: JwtService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.trim() === '') {
      throw new UnauthorizedException('missing bearer token');
    }
    const match = BEARER.exec(header.trim());
    if (!match) {
      throw new UnauthorizedException('malformed authorization header');
    }
    try {
      request.user = await this.jwt.verifyAsync<Record<string, unknown>>(match[1], { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedException('invalid or expired token');
    }
    return true;
  }
}
