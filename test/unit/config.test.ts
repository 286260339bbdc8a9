import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';

describe('config', () => {
  it('has embedded defaults: ./data, 127.0.0.1:8080, the local model', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, dataDir: path.resolve('data'), defaultEmbedder: 'local', defaultModel: 'quiver-glove-sif-100d' });
  });

  it('reads every variable it documents', () => {
    const c = loadConfig({ QUIVER_PORT: '9000', QUIVER_MAX_BODY: '2mb', QUIVER_SYNC: 'normal', QUIVER_ALLOW_MODEL_DOWNLOAD: 'true', QUIVER_HNSW_M: '32', QUIVER_ACCESS_LOG: 'yes' });
    expect(c).toMatchObject({ port: 9000, maxBodyBytes: 2 * 1024 * 1024, sync: 'normal', allowModelDownload: true, hnsw: { m: 32 }, accessLog: true });
    expect(loadConfig({}).accessLog).toBe(false);
  });

  it.each([
    ['QUIVER_PORT', 'abc', 'whole number'],
    ['QUIVER_PORT', '70000', 'at most 65535'],
    ['QUIVER_EMBEDDER', 'openai', '"local" or "none"'],
    ['QUIVER_MAX_BODY', 'lots', 'size'],
    ['QUIVER_DEFAULT_MODEL', '../x', 'model id'],
    ['QUIVER_ALLOW_MODEL_DOWNLOAD', 'maybe', ''],
    ['QUIVER_ACCESS_LOG', 'on', ''],
  ])('names %s=%s and the problem', (variable, value, problem) => {
    let err: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as ConfigError).message).toContain(problem);
    expect((err as ConfigError).message).toContain(JSON.stringify(value));
  });
});
