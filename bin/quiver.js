#!/usr/bin/env node
// The `quiver` command (`npx quiver ...`): loads tsx's ESM hooks, then the TypeScript CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
