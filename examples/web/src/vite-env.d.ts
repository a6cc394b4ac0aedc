/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The gateway's GraphQL endpoint the sign-in form starts with. */
  readonly VITE_GRAPHQL_URL?: string;
}
