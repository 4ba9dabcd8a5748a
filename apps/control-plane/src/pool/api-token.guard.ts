import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';

import { bearerToken, safeEqual } from '../common/auth';
import { Settings } from '../config/settings';

/** When API_TOKEN is set, the request needs `Authorization: Bearer <API_TOKEN>`. */
@Injectable()
export class ApiTokenGuard implements CanActivate {
  constructor(private readonly settings: Settings) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.settings.API_TOKEN;
    if (!expected) return true;
    const token = bearerToken(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (token === undefined) throw new UnauthorizedException('Authorization: Bearer <API_TOKEN> required');
    if (!safeEqual(token, expected)) throw new UnauthorizedException('invalid API token');
    return true;
  }
}
