// What every surface's route modules are given: the services (ApiDeps) and the shared body middleware.
import type { RequestHandler } from 'express';
import type { ApiDeps } from './deps.js';

export interface RouteContext extends ApiDeps {
  /** Parses a JSON body within QUIVER_MAX_BODY. */
  json: RequestHandler;
  /** 415 unless the body is declared as JSON. */
  requireJson: RequestHandler;
  /** 503 NOT_READY while the server starts or drains; each surface puts it before its routes. */
  ready: RequestHandler;
}
