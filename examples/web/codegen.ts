// GraphQL Code Generator: typed documents from the gateway's exported SDL,
// and the persisted-documents manifest (sha256 → document text) that the
// gateway reads as TRUSTED_DOCUMENTS. Each generated document carries its
// hash in `__meta__.hash`; the app sends only that hash.
//
// The hash is the bare lower-case hex SHA-256 of the document text, the
// form `extensions.persistedQuery.sha256Hash` carries. (The preset's
// built-in `'sha256'` writes `sha256:<hex>` keys, the GraphQL-over-HTTP
// document-id form, which the gateway's manifest lookup does not match.)
import { createHash } from 'node:crypto';
import type { CodegenConfig } from '@graphql-codegen/cli';

const sha256Hex = (document: string): string =>
  createHash('sha256').update(document).digest('hex');

const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: {
          mode: 'embedHashInDocument',
          hashPropertyName: 'hash',
          hashAlgorithm: sha256Hex,
        },
      },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: {
          Decimal: 'string',
          DateTime: 'string',
          JSON: 'unknown',
        },
      },
    },
  },
};

export default config;
