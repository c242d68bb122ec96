import type { SearchPage, SearchRequest } from '../domain/history.ts';
import { parseSearchQuery } from '../domain/search-query.ts';
import { ChatError } from '../errors.ts';
import type { SqliteStore } from '../store/sqlite-store.ts';

/**
 * What a search finds among the messages the viewer may read now, newest first (`bad_query`
 * for a query the contract refuses). One read transaction: results and their rooms agree.
 */
export function searchMessages(store: SqliteStore, request: SearchRequest): SearchPage {
  const parsed = parseSearchQuery(request.q);
  if (!parsed.ok) throw new ChatError('bad_query', parsed.reason);
  return store.transaction(() =>
    store.search.search(parsed.query, {
      viewer: request.viewer ?? undefined,
      limit: request.limit,
      before: request.before,
      maxBytes: request.maxBytes ?? Infinity,
    }),
  );
}
