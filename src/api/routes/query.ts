// Routes that search a collection.
import type { Router } from 'express';
import { queryCollection } from '../../query/index.js';
import { parse } from '../errors.js';
import * as s from '../schemas.js';
import type { RouteContext } from './context.js';
import { param } from '../views.js';

export function queryRoutes(v1: Router, { engine, json, requireJson }: RouteContext): void {
  v1.post('/collections/:name/query', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name);
    const q = parse(s.queryBody, req.body);
    res.json(await queryCollection(engine, name, q));
  });
}
