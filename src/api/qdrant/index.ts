// Qdrant's REST API, at the root as a Qdrant server has it: the subset @qdrant/js-client-rest
// uses, translated onto Quiver's collections.
import type { Surface } from '../surface.js';

export const qdrantSurface: Surface = {
  name: 'qdrant',
  prefix: '',
  owns: (path) => path === '/' || /^\/collections(\/|$)/i.test(path),
  routes: () => {},
};
