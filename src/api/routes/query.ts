// Routes that search a collection or act on the documents a filter selects: query (vector,
// keyword, hybrid), RAG context, and delete-by-filter.
import type { Router } from 'express';
import { compileFilter, queryCollection, searchRepo } from '../../query/index.js';
import { buildContext } from '../../query/context.js';
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

  v1.post('/collections/:name/context', requireJson, json, async (req, res) => {
    const name = param(req, 'name');
    engine.collection(name);
    res.json(await buildContext(engine, name, parse(s.contextBody, req.body)));
  });

  v1.post('/collections/:name/documents/delete', requireJson, json, async (req, res) => {
    const c = engine.collection(param(req, 'name'));
    const body = parse(s.deleteByFilterBody, req.body);
    const where = compileFilter(body.filter);
    const deleted = await engine.withWriteLock(c.id, async () => {
      // Selected inside the lock, so the set cannot change between the choice and the delete.
      const repo = searchRepo(engine);
      const { deleted: n, changes } = repo.deleteMany(c.id, repo.documentIds(c.id, where));
      await engine.indexes.apply(c.id, changes);
      return n;
    });
    res.json({ deleted });
  });
}
