// Routes that search a collection or act on the documents a filter selects: query (vector,
// keyword, hybrid), RAG context, and delete-by-filter.
import type { Router } from 'express';
import { search } from '../../query/index.js';
import { parse } from '../errors.js';
import type { RouteContext } from '../context.js';
import * as s from './schemas.js';
import { contextAnswer } from './answers.js';
import { routedSearch, routedWhole } from './shard-reads.js';
import { param, searchView, toSearchQuery } from './views.js';

export function queryRoutes(v1: Router, { collections, json, requireJson, cluster }: RouteContext): void {
  v1.post('/collections/:name/query', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const q = toSearchQuery(parse(s.queryBody, req.body));
    // An api-role node holds no documents: the replicas of every shard answer (docs/cluster.md).
    const r = cluster?.role === 'api' ? await routedSearch(cluster, c, q, res.locals.minSeq as number | undefined) : await search(c, q);
    res.json(searchView(r));
  });

  v1.post('/collections/:name/context', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name'));
    if (cluster?.role === 'api') {
      parse(s.contextBody, req.body); // a bad body is this node's 400, before asking anyone
      res.json(await routedWhole(cluster, c, 'context', req.body, res.locals.minSeq as number | undefined));
      return;
    }
    res.json(await contextAnswer(c, req.body));
  });

  v1.post('/collections/:name/documents/delete', requireJson, json, async (req, res) => {
    const c = collections.get(param(req, 'name'));
    const body = parse(s.deleteByFilterBody, req.body);
    // The schema refuses an empty filter; one that selects everything ({"$and": [{}]}) deletes everything.
    const filter = c.compileFilter(body.filter);
    if (cluster) {
      // Cluster mode: 202 once the log acknowledged it; how many it deletes is known only at apply time.
      const at = await cluster.publishDeleteWhere(c, body.filter);
      res.status(202).json({ stream: at.stream, seq: at.seq });
      return;
    }
    res.json({ deleted: await c.deleteWhere(filter) });
  });
}
