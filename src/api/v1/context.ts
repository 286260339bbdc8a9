// What every v1 route module is given: the services (ApiDeps) and the shared body middleware.
import type { RequestHandler } from 'express';
import type { ApiDeps } from '../deps.js';

export interface RouteContext extends ApiDeps {
  /** Parses a JSON body within QUIVER_MAX_BODY. */
  json: RequestHandler;
  /** 415 unless the body is declared as JSON. */
  requireJson: RequestHandler;
}
