// The example app: sign in with a pasted token, page through pricing tiers
// and customers over Relay cursors, create a pricing tier, and show errors
// by their `extensions.code`. The token lives in sessionStorage only, so it
// is gone when the tab closes.
import type { Client, CombinedError } from '@urql/core';
import './style.css';
import { makeClient } from './client';
import { CreatePricingTier, CustomersPage, PricingTiersPage } from './documents';
import { describe } from './errors';
import type { CreatePricingTierInput } from './gql/graphql';

const TOKEN_KEY = 'switchboard:token';
const ENDPOINT_KEY = 'switchboard:endpoint';

const params = new URLSearchParams(window.location.search);
/** Items per page; `?pageSize=` makes "load more" easy to see with little data. */
const PAGE_SIZE = Math.min(100, Math.max(1, Number(params.get('pageSize')) || 10));
const DEFAULT_ENDPOINT =
  params.get('endpoint') ?? import.meta.env.VITE_GRAPHQL_URL ?? 'http://127.0.0.1:3000/graphql';

function $<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

const ui = {
  signIn: $<HTMLFormElement>('sign-in'),
  endpoint: $<HTMLInputElement>('endpoint'),
  token: $<HTMLTextAreaElement>('token'),
  signedIn: $('signed-in'),
  signedInEndpoint: $('signed-in-endpoint'),
  signOut: $<HTMLButtonElement>('sign-out'),
  errors: $<HTMLUListElement>('errors'),
  workspace: $('workspace'),
  tiers: $<HTMLUListElement>('tiers'),
  tiersMore: $<HTMLButtonElement>('tiers-more'),
  createTier: $<HTMLFormElement>('create-tier'),
  created: $('created'),
  customers: $<HTMLUListElement>('customers'),
  customersMore: $<HTMLButtonElement>('customers-more'),
};

let client: Client | null = null;
let tiersCursor: string | null = null;
let customersCursor: string | null = null;

function showErrors(error: CombinedError): void {
  ui.errors.replaceChildren(
    ...describe(error).map((shown) => {
      const item = document.createElement('li');
      item.dataset.code = shown.code;
      if (shown.field) item.dataset.field = shown.field;
      const code = document.createElement('strong');
      code.textContent = shown.code;
      item.append(code);
      if (shown.field) {
        const field = document.createElement('code');
        field.textContent = shown.field;
        item.append(' ', field);
      }
      item.append(`: ${shown.message}`);
      if (shown.hint) item.append(` — ${shown.hint}`);
      return item;
    }),
  );
}

function clearErrors(): void {
  ui.errors.replaceChildren();
}

function listItem(text: string, id: string): HTMLLIElement {
  const item = document.createElement('li');
  item.className = 'item';
  item.dataset.id = id;
  item.textContent = text;
  return item;
}

async function loadTiers(more: boolean): Promise<void> {
  if (!client) return;
  if (!more) {
    tiersCursor = null;
    ui.tiers.replaceChildren();
  }
  const result = await client
    .query(PricingTiersPage, { first: PAGE_SIZE, after: tiersCursor })
    .toPromise();
  if (result.error) return showErrors(result.error);
  const page = result.data?.pricingTiers;
  if (!page) return;
  for (const { node } of page.edges) {
    const flag = node.isDefault ? ' (default)' : '';
    ui.tiers.append(
      listItem(
        `${node.name} — ${node.ratePerMinute} ${node.currency}/min, per ${node.billingIncrementSeconds} s${flag}`,
        node.id,
      ),
    );
  }
  tiersCursor = page.pageInfo.endCursor ?? null;
  ui.tiersMore.hidden = !page.pageInfo.hasNextPage;
}

async function loadCustomers(more: boolean): Promise<void> {
  if (!client) return;
  if (!more) {
    customersCursor = null;
    ui.customers.replaceChildren();
  }
  const result = await client
    .query(CustomersPage, { first: PAGE_SIZE, after: customersCursor })
    .toPromise();
  if (result.error) return showErrors(result.error);
  const page = result.data?.customers;
  if (!page) return;
  for (const { node } of page.edges) {
    const name = node.companyName ?? `${node.firstName} ${node.lastName}`;
    ui.customers.append(listItem(`${name} <${node.email}> ${node.status}`, node.id));
  }
  customersCursor = page.pageInfo.endCursor ?? null;
  ui.customersMore.hidden = !page.pageInfo.hasNextPage;
}

async function createTier(form: FormData): Promise<void> {
  if (!client) return;
  const input: CreatePricingTierInput = {
    name: String(form.get('name') ?? ''),
    currency: String(form.get('currency') ?? ''),
    ratePerMinute: String(form.get('ratePerMinute') ?? ''),
    billingIncrementSeconds: Number(form.get('billingIncrementSeconds') || 60),
  };
  ui.created.textContent = '';
  const result = await client.mutation(CreatePricingTier, { input }).toPromise();
  if (result.error) return showErrors(result.error);
  const tier = result.data?.createPricingTier;
  if (!tier) return;
  clearErrors();
  ui.created.textContent = `Created ${tier.name} (${tier.ratePerMinute} ${tier.currency}/min).`;
  await loadTiers(false);
}

function enter(endpoint: string, token: string): void {
  client = makeClient(endpoint, token);
  ui.signIn.hidden = true;
  ui.signedIn.hidden = false;
  ui.signedInEndpoint.textContent = endpoint;
  ui.workspace.hidden = false;
  clearErrors();
  void loadTiers(false).then(() => loadCustomers(false));
}

function leave(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  client = null;
  ui.signIn.hidden = false;
  ui.signedIn.hidden = true;
  ui.workspace.hidden = true;
  ui.tiers.replaceChildren();
  ui.customers.replaceChildren();
  clearErrors();
}

ui.signIn.addEventListener('submit', (event) => {
  event.preventDefault();
  const endpoint = ui.endpoint.value.trim();
  const token = ui.token.value.trim().replace(/^Bearer\s+/i, '');
  sessionStorage.setItem(ENDPOINT_KEY, endpoint);
  sessionStorage.setItem(TOKEN_KEY, token);
  ui.token.value = '';
  enter(endpoint, token);
});
ui.signOut.addEventListener('click', leave);
ui.tiersMore.addEventListener('click', () => void loadTiers(true));
ui.customersMore.addEventListener('click', () => void loadCustomers(true));
ui.createTier.addEventListener('submit', (event) => {
  event.preventDefault();
  void createTier(new FormData(ui.createTier));
});

ui.endpoint.value = sessionStorage.getItem(ENDPOINT_KEY) ?? DEFAULT_ENDPOINT;
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) enter(ui.endpoint.value, saved);
