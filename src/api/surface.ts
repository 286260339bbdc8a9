// An HTTP surface: one API's wire shapes (Quiver's own /v1, OpenAI embeddings, Chroma v2, Qdrant
// REST) translated onto the same services. Each surface is a folder (api/<name>/) whose index.ts
// exports one Surface; app.ts mounts them all, access.ts holds the role of each of their routes.
import type { Router } from 'express';
import type { QuiverError } from '../errors/index.js';
import type { RouteContext } from './context.js';
import type { ApiDeps } from './deps.js';
import type { CollectionResolver } from './auth.js';

export interface ErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Surface {
  name: 'quiver' | 'openai' | 'chroma' | 'qdrant';
  /** Where the surface's router is mounted: '' is the root. */
  prefix: string;
  /** Whether a request path (as the app sees it) is this surface's: its errors then take the surface's shape. */
  owns(path: string): boolean;
  /** Registers the surface's routes on its router (mounted at `prefix`). */
  routes(router: Router, ctx: RouteContext): void;
  /** The surface's error shape; without it errors keep Quiver's {error: {code, message, details}}. */
  errorReply?(e: QuiverError, reply: ErrorReply): ErrorReply;
  /** How the surface's paths name collections other than by name (access.ts `by`), for scoped keys. */
  resolver?(deps: ApiDeps): CollectionResolver;
}
