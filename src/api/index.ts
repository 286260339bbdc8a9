// The HTTP API's public face: the app, and the process-wide budget for request bodies it is given.
export { createApp } from './app.js';
export { BodyBudget } from './body.js';
export { answerShardRead } from './v1/shard-reads.js';
