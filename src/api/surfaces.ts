// Every HTTP surface the app serves, in mounting order: the OpenAI routes share /v1 with Quiver's
// own and are tried first.
import { chromaSurface } from './chroma/index.js';
import { openaiSurface } from './openai/index.js';
import { qdrantSurface } from './qdrant/index.js';
import type { Surface } from './surface.js';
import { quiverSurface } from './v1/index.js';

export const SURFACES: readonly Surface[] = [openaiSurface, quiverSurface, chromaSurface, qdrantSurface];

/** The surface that owns a path; the app's own routes (probes, metrics, docs) are Quiver's. */
export function surfaceOf(path: string): Surface {
  return SURFACES.find((s) => s.owns(path)) ?? quiverSurface;
}

export { chromaSurface };
