// The accept page the invitation email links to: the gateway's
// INVITATION_ACCEPT_URL with `#token=…` added. The token arrives in the
// fragment, which a browser never sends to any server (so no access log or
// Referer sees it); the page reads it once, removes it from the address bar
// and the history entry, and keeps it in memory only.
//
// A newcomer chooses a name and a password and accepts without any JWT.
// When the invited email already has an account, the gateway answers
// SIGN_IN_REQUIRED: that person signs in (pastes a token, as on the app's
// main page) and the same mutation accepts for the signed-in user.
import type { CombinedError } from '@urql/core';
import './style.css';
import { makeClient } from './client';
import { AcceptInvitation } from './documents';
import { describe, renderErrors } from './errors';
import type { AcceptInvitationMutation, AcceptInvitationMutationVariables } from './gql/graphql';

/**
 * The gateway, fixed when the app is built (VITE_GRAPHQL_URL) and never
 * taken from the URL: this page sends a new password, and a link naming
 * another endpoint would send it there.
 */
const ENDPOINT = import.meta.env.VITE_GRAPHQL_URL ?? 'http://127.0.0.1:3000/graphql';

/** What to do about each failure, on this page. */
const HINTS: Record<string, string> = {
  FAILED_PRECONDITION: 'Ask whoever invited you to send a new invitation.',
  CONFLICT: 'The invitation was accepted at the same moment elsewhere, or you already belong to this customer.',
  UNAUTHENTICATED: 'The sign-in token was refused: paste a valid, unexpired one.',
  FORBIDDEN: 'Sign in as the user the invitation was sent to.',
};

function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from accept.html`);
  return element as T;
}

const ui = {
  noToken: $('no-token'),
  errors: $<HTMLUListElement>('errors'),
  accept: $<HTMLFormElement>('accept'),
  signInRequired: $('sign-in-required'),
  signInAccept: $<HTMLFormElement>('sign-in-accept'),
  accepted: $('accepted'),
  next: $('next'),
};

/**
 * The token from `#token=…`, read once; the fragment is then replaced out
 * of the current history entry, so neither the address bar, a bookmark nor
 * the back button keeps it. Parsed by hand: URLSearchParams would turn a
 * `+` into a space.
 */
function takeToken(): string | null {
  const fragment = window.location.hash.replace(/^#/, '');
  if (fragment) {
    history.replaceState(history.state, '', `${window.location.pathname}${window.location.search}`);
  }
  const raw = fragment.split('&').find((part) => part.startsWith('token='))?.slice('token='.length);
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

let token = takeToken();

function setBusy(form: HTMLFormElement, busy: boolean): void {
  for (const button of form.querySelectorAll('button')) button.disabled = busy;
}

/** Marks the form's input the error names (`extensions.field`), if any. */
function markFields(fields: (string | undefined)[]): void {
  let first: HTMLInputElement | null = null;
  for (const input of ui.accept.querySelectorAll('input')) {
    const invalid = fields.includes(input.name);
    if (invalid) {
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    } else {
      input.removeAttribute('aria-invalid');
    }
  }
  first?.focus();
}

function showError(error: CombinedError): void {
  const shown = describe(error, HINTS);
  if (shown.some(({ code }) => code === 'SIGN_IN_REQUIRED') && ui.signInRequired.hidden) {
    // Not an error to fix in this form: the account exists, so sign in.
    ui.errors.replaceChildren();
    ui.accept.hidden = true;
    ui.signInRequired.hidden = false;
    ui.signInAccept.querySelector('textarea')?.focus();
    return;
  }
  renderErrors(ui.errors, shown);
  markFields(shown.map(({ field }) => field));
}

function showAccepted(result: AcceptInvitationMutation['acceptInvitation']): void {
  token = null;
  ui.errors.replaceChildren();
  ui.accept.hidden = true;
  ui.signInRequired.hidden = true;
  const permissions = result.permissions.length ? result.permissions.join(', ') : 'none yet';
  ui.accepted.textContent = result.createdUser
    ? `Invitation accepted: your account was created and you joined the customer ${result.customerId}. ` +
      `Sign in with your email address and the password you chose. Your permissions: ${permissions}.`
    : `Invitation accepted: you joined the customer ${result.customerId}. Your permissions: ${permissions}.`;
  ui.accepted.dataset.customerId = result.customerId;
  ui.accepted.dataset.userId = result.userId;
  ui.next.hidden = false;
}

/** Accepts as a newcomer (`jwt` null, no Authorization header) or as the signed-in user. */
async function accept(
  form: HTMLFormElement,
  jwt: string | null,
  variables: Omit<AcceptInvitationMutationVariables, 'token'>,
): Promise<void> {
  if (!token) return;
  setBusy(form, true);
  try {
    const result = await makeClient(ENDPOINT, jwt)
      .mutation(AcceptInvitation, { token, ...variables })
      .toPromise();
    if (result.error) return showError(result.error);
    if (result.data) showAccepted(result.data.acceptInvitation);
  } finally {
    setBusy(form, false);
  }
}

ui.accept.addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(ui.accept);
  void accept(ui.accept, null, {
    firstName: String(form.get('firstName') ?? '').trim(),
    lastName: String(form.get('lastName') ?? '').trim(),
    password: String(form.get('password') ?? ''),
  });
});

ui.signInAccept.addEventListener('submit', (event) => {
  event.preventDefault();
  const field = ui.signInAccept.querySelector('textarea');
  const jwt = (field?.value ?? '').trim().replace(/^Bearer\s+/i, '');
  if (field) field.value = '';
  if (jwt) void accept(ui.signInAccept, jwt, {});
});

if (token) {
  ui.accept.hidden = false;
  ui.accept.querySelector('input')?.focus();
} else {
  ui.noToken.hidden = false;
}
