// Cluster mode's face (docs/cluster.md): the node the composition root builds when QUIVER_NATS_URL
// is set, and the start-up error main.ts reports. Nothing below the root imports this folder.
export { ClusterNode, type ClusterNodeOptions } from './node.js';
export { ClusterStartError } from './connection.js';
export { seedFromSnapshot } from './seed.js';
