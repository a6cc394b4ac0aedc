// The GraphQL client: urql with the persisted-queries exchange in front of
// fetch. Every operation goes out as `extensions.persistedQuery` with the
// hash GraphQL Code Generator computed at build time (`__meta__.hash`), and
// never with its text: the gateway may enforce its trusted-documents
// manifest, where an unknown text would be refused anyway. Queries travel as
// GET (short URLs), mutations as POST.
import { Client, fetchExchange, type TypedDocumentNode } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';

/** The build-time hash the client preset embeds in each document. */
function documentHash(document: TypedDocumentNode<unknown, never> | unknown): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== 'string') {
    throw new Error('a document without a persisted hash: run `npm run codegen`');
  }
  return hash;
}

/**
 * A client for one gateway endpoint, with a bearer token or, for accepting
 * an invitation as a newcomer, without one (no Authorization header at all).
 */
export function makeClient(url: string, token: string | null): Client {
  return new Client({
    url,
    // No document cache: each list page and the create are network calls.
    requestPolicy: 'network-only',
    preferGetMethod: false,
    fetchOptions: () => (token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    exchanges: [
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        preferGetForPersistedQueries: true,
        generateHash: (_text, document) => Promise.resolve(documentHash(document)),
      }),
      fetchExchange,
    ],
  });
}
