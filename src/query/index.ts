// The query layer's public face.
export { queryCollection, type QueryInput, type QueryResult, type Hit, type IncludeField } from './search.js';
