// Chroma's v2 HTTP API (/api/v2), the subset the official chromadb client uses, translated onto
// Quiver's collections.
import type { Surface } from '../surface.js';

export const chromaSurface: Surface = {
  name: 'chroma',
  prefix: '/api/v2',
  owns: (path) => /^\/api\/v2(\/|$)/i.test(path),
  routes: () => {},
  resolver: () => (raw) => raw,
};
