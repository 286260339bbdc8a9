// What every route module is given: the engine, the logger and the shared middleware.
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Engine } from '../../engine/index.js';

export interface RouteContext {
  engine: Engine;
  log: Logger;
  /** Parses a JSON body within QUIVER_MAX_BODY. */
  json: RequestHandler;
  /** 415 unless the body is declared as JSON. */
  requireJson: RequestHandler;
}
