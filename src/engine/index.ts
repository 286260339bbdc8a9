// The engine's public face.
export { Engine, type CreateCollectionInput } from './engine.js';
export { checkVector } from './vectors.js';
