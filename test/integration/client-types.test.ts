// The typed client's types (src/client/schema.ts, committed) must be what the generator makes of
// the server's OpenAPI document today: a route, field or error code changed in src/api without
// regenerating fails here, not in a user's program.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_FILE, generateClientTypes } from '../../scripts/gen-client-types.js';

describe('generated client types', () => {
  it('match the OpenAPI document the server serves', async () => {
    const fresh = await generateClientTypes();
    const committed = fs.readFileSync(SCHEMA_FILE, 'utf8');
    if (fresh !== committed) {
      const a = committed.split('\n');
      const b = fresh.split('\n');
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      expect.fail(
        `src/client/schema.ts is out of date with the server's OpenAPI document (src/api/openapi.ts): run npm run gen:client and commit the result.\n` +
          `First difference at line ${i + 1}:\n  committed: ${a[i] ?? '(end of file)'}\n  generated: ${b[i] ?? '(end of file)'}`,
      );
    }
  });
});
