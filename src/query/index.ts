// The query layer's public face.
export {
  queryCollection,
  defaultMode,
  searchRepo,
  type QueryInput,
  type QueryResult,
  type Hit,
  type IncludeField,
  type SearchMode,
} from './search.js';
export { compileFilter, compileOptionalFilter } from './filter.js';
