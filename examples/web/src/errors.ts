// Errors as the user sees them: by the gateway's stable `extensions.code`
// (and `extensions.field` for input errors), with what to do about each.
import type { CombinedError } from '@urql/core';

/** One error, ready to show. */
export interface Shown {
  code: string;
  field?: string;
  message: string;
  hint?: string;
}

/** The browser never got an answer it may read: network down or CORS. */
export const NETWORK_ERROR = 'NETWORK_ERROR';

const HINTS: Record<string, string> = {
  UNAUTHENTICATED: 'Sign in again with a valid, unexpired token.',
  FORBIDDEN: 'This token may not do that (mutations need an admin token).',
  BAD_USER_INPUT: 'Correct the field named and try again.',
  CONFLICT: 'Something with that value already exists, or it changed meanwhile.',
  NOT_FOUND: 'It no longer exists; reload the list.',
  FAILED_PRECONDITION: 'It cannot be done in its current state; the message says why.',
  SIGN_IN_REQUIRED: 'Sign in as that user and try again.',
  PERSISTED_QUERY_NOT_FOUND:
    "The gateway does not know this app's documents: deploy the app's persisted-documents.json as its TRUSTED_DOCUMENTS.",
  SERVICE_UNAVAILABLE: 'The gateway is busy; try again shortly.',
  [NETWORK_ERROR]:
    "No readable answer from the gateway: it is down, or this page's origin is not in its CORS_ALLOWED_ORIGINS.",
};

/**
 * The errors of a failed operation, one entry each; `hints` replaces the
 * general hint of a code where a page knows better what to do.
 */
export function describe(error: CombinedError, hints: Record<string, string> = {}): Shown[] {
  if (error.networkError && error.graphQLErrors.length === 0) {
    return [
      {
        code: NETWORK_ERROR,
        message: error.networkError.message,
        hint: hints[NETWORK_ERROR] ?? HINTS[NETWORK_ERROR],
      },
    ];
  }
  return error.graphQLErrors.map((e) => {
    const code = typeof e.extensions?.code === 'string' ? e.extensions.code : 'UNKNOWN';
    const field = typeof e.extensions?.field === 'string' ? e.extensions.field : undefined;
    return { code, field, message: e.message, hint: hints[code] ?? HINTS[code] };
  });
}

/** Shows `shown` in `list` (an ARIA alert): code, field, message and hint. */
export function renderErrors(list: HTMLUListElement, shown: Shown[]): void {
  list.replaceChildren(
    ...shown.map((one) => {
      const item = document.createElement('li');
      item.dataset.code = one.code;
      if (one.field) item.dataset.field = one.field;
      const code = document.createElement('strong');
      code.textContent = one.code;
      item.append(code);
      if (one.field) {
        const field = document.createElement('code');
        field.textContent = one.field;
        item.append(' ', field);
      }
      item.append(`: ${one.message}`);
      if (one.hint) item.append(` — ${one.hint}`);
      return item;
    }),
  );
}
