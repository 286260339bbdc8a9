// Entry of an index worker thread. The index code is TypeScript and the worker starts with no
// loader flags (execArgv: []), so it registers tsx, the same loader `npm start` runs under,
// before importing it.
import { register } from 'tsx/esm/api';

register();
await import('./index-worker.ts');
