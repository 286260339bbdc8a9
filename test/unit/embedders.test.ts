// The Embedder contract suite run against every implementation available offline.
import path from 'node:path';
import { BUILTIN_MODELS_DIR, DEFAULT_LOCAL_MODEL } from '../../src/config/index.js';
import { LocalEmbedder } from '../../src/embedding/index.js';
import { writeTinyModel } from '../../scripts/static-model.js';
import { tempDir } from '../helpers/server.js';
import { runEmbedderSuite } from './embedder.case.js';

runEmbedderSuite('local: built-in GloVe static model', {
  make: () => LocalEmbedder.load({ modelId: DEFAULT_LOCAL_MODEL, searchDirs: [BUILTIN_MODELS_DIR], allowDownload: false }),
  similar: ['The cat sat on the mat.', 'A kitten sleeps on a rug.'],
  unrelated: 'Stock markets fell after the interest rate decision.',
  unknown: 'qwzxv bnmkj',
});

runEmbedderSuite('local: a generated model in a models folder', {
  make: async () => {
    const dir = tempDir('quiver-embedder-');
    await writeTinyModel(path.join(dir, 'tiny'), { dim: 8, words: ['apple', 'banana', 'cherry', 'vector', 'search', 'index'] });
    return LocalEmbedder.load({ modelId: 'tiny', searchDirs: [dir], allowDownload: false });
  },
  similar: ['apple banana cherry', 'apple banana'],
  unrelated: 'vector search index',
  unknown: 'zebra',
});
