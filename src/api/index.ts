// The HTTP API's public face.
export { createApp } from './app.js';
