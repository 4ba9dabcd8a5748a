import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { Request, Response } from 'express';

/**
 * The one place a request's error becomes an answer. An HttpException keeps its status and body (the 4xx with
 * reasons that controllers and pipes throw); an error that a body parser marked as the client's (status 4xx) keeps
 * it; anything else is our fault: logged with its stack, answered 500 without details.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GlobalExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    if (response.headersSent) return;
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      response
        .status(exception.getStatus())
        .json(typeof body === 'string' ? { statusCode: exception.getStatus(), message: body } : body);
      return;
    }
    const status = clientErrorStatus(exception);
    if (status !== null) {
      const message = exception instanceof Error ? exception.message : 'bad request';
      response.status(status).json({ statusCode: status, message });
      return;
    }
    this.logger.error({
      msg: 'unexpected error while handling a request',
      method: request.method,
      path: request.path,
      error: exception instanceof Error ? exception.message : String(exception),
      stack: exception instanceof Error ? exception.stack : undefined,
    });
    response.status(500).json({ statusCode: 500, message: 'Internal server error' });
  }
}

/** body-parser and friends mark the client's errors with a 4xx `status`/`statusCode` and `expose: true`. */
function clientErrorStatus(exception: unknown): number | null {
  if (typeof exception !== 'object' || exception === null) return null;
  const e = exception as { status?: unknown; statusCode?: unknown; expose?: unknown };
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : null;
  return status !== null && status >= 400 && status < 500 && e.expose === true ? status : null;
}
