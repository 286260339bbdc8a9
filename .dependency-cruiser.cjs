// The layering of src/ (../shared/DESIGN.md; README "Development"), checked in `npm test`:
//
//   main.ts, server.ts                   composition: may import anything
//   api/, cli/                           surfaces: HTTP and command line
//   client/                              the typed HTTP client: imports nothing of the server
//                                        (it is shipped as quiver/client and bundled for browsers)
//   studio/                              Quiver Studio, the web page: the client only (api/studio.ts
//                                        serves its build output by path, never imports it)
//   cluster/                             cluster mode (NATS JetStream): the root wires it in;
//                                        the core knows it only by the api's ClusterHooks shape
//   query/, ingest/, ops/                services over open collections
//   collection/                          the one write door per collection
//   storage/, index/, embedding/,        engines, independent of each other (generation: the
//   generation/                          Bedrock Converse client that writes answers)
//   domain/, errors/, config/, util/, text/, log.ts   the base
//
// Dependencies point down only; nothing imports a layer above it, engines do not import each
// other (an index reads the store through its own IndexSource interface), services do not import
// each other, and a folder with an index.ts is entered only through it.
const base = '^src/(domain|errors|config|util|text)/|^src/log\\.ts$';
const engines = '^src/(storage|index|embedding|generation)/';
const services = '^src/(query|ingest|ops)/';
const root = '^src/(main|server)\\.ts$';

/** A rule forbidding `from` to import anything outside `allowed` (paths in src/ only). */
const layer = (name, from, allowed) => ({
  name,
  severity: 'error',
  comment: `${name}: may import only ${allowed.join(', ')}`,
  from: { path: from },
  to: { path: '^src/', pathNot: allowed },
});

/* global module */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'import cycles hide which layer depends on which', from: {}, to: { circular: true } },
    layer('base-imports-base-only', base, [base]),
    layer('storage-below-collection', '^src/storage/', ['^src/storage/', base]),
    layer('index-below-collection', '^src/index/', ['^src/index/', base]),
    layer('embedding-below-collection', '^src/embedding/', ['^src/embedding/', base]),
    layer('generation-below-services', '^src/generation/', ['^src/generation/', base]),
    layer('collection-over-engines', '^src/collection/', ['^src/collection/', engines, base]),
    layer('query-is-a-service', '^src/query/', ['^src/query/', '^src/collection/', engines, base]),
    layer('ingest-is-a-service', '^src/ingest/', ['^src/ingest/', '^src/collection/', engines, base]),
    layer('ops-is-a-service', '^src/ops/', ['^src/ops/', '^src/collection/', engines, base]),
    // Cluster mode sits beside the services: it drives collections through their write door and
    // reads the store's applied sequences; nothing but the composition root imports it.
    layer('cluster-is-a-service', '^src/cluster/', ['^src/cluster/', '^src/collection/', '^src/storage/', base]),
    {
      name: 'cluster-stays-out-of-the-core',
      severity: 'error',
      comment: 'only main.ts and server.ts know cluster mode exists; the core sees it through api/deps.ts ClusterHooks',
      from: { path: '^src/', pathNot: [root, '^src/cluster/'] },
      to: { path: '^src/cluster/' },
    },
    layer('api-is-a-surface', '^src/api/', ['^src/api/', services, '^src/collection/', engines, base]),
    // The CLI checks files against the server's own request schemas before sending them, and
    // talks to a server through the typed client, as any program would.
    layer('cli-is-a-surface', '^src/cli/', ['^src/cli/', '^src/client/', '^src/api/v1/schemas\\.ts$', '^src/main\\.ts$', services, '^src/collection/', engines, base]),
    // The client runs in browsers and in other people's programs: nothing of the server may come
    // along (not even the base: config and log pull in Node built-ins). Its types come from the
    // OpenAPI document (schema.ts, generated), not from the server's modules.
    layer('client-stands-alone', '^src/client/', ['^src/client/']),
    // The Studio runs in a browser and talks to the server as any program would: through the typed
    // client's public face ("one client, not three", issue 19), never through server modules.
    layer('studio-speaks-through-the-client', '^src/studio/', ['^src/studio/', '^src/client/index\\.ts$']),
    {
      name: 'nothing-imports-the-studio',
      severity: 'error',
      comment: 'the Studio is a page built by vite and served as files; no server module imports it',
      from: { path: '^src/', pathNot: '^src/studio/' },
      to: { path: '^src/studio/' },
    },
    {
      name: 'surfaces-stand-apart',
      severity: 'error',
      comment: "an HTTP surface (api/v1, openai, chroma, qdrant) translates its own wire shapes; what two share lives in api/*.ts, not in one of them",
      from: { path: '^src/api/(v1|openai|chroma|qdrant)/' },
      to: { path: '^src/api/(v1|openai|chroma|qdrant)/', pathNot: '^src/api/$1/' },
    },
    {
      name: 'nothing-imports-the-root',
      severity: 'error',
      comment: 'main.ts and server.ts build everything; nothing in src/ depends on them (but `quiver serve`, which runs main.ts)',
      from: { path: '^src/', pathNot: [root, '^src/cli/main\\.ts$'] },
      to: { path: root },
    },
    {
      name: 'enter-a-folder-through-its-face',
      severity: 'error',
      comment: 'a folder with an index.ts is imported through it, so its inside can move freely',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/(storage|index|embedding|generation|collection|query|ingest|api|client|cluster)/.+',
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/api/v1/schemas\\.ts$'],
      },
    },
    {
      name: 'root-enters-folders-through-their-faces',
      severity: 'error',
      comment: 'the composition root too',
      from: { path: root },
      to: { path: '^src/(storage|index|embedding|generation|collection|query|ingest|api|cluster)/.+', pathNot: ['^src/[^/]+/index\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.mts', '.js', '.mjs'] },
  },
};
