// The example app: sign in with a pasted token, page through pricing tiers
// and customers over Relay cursors, create a pricing tier, and show errors
// by their `extensions.code`. The token lives in sessionStorage only, so it
// is gone when the tab closes.
import type { Client, CombinedError } from '@urql/core';
import './style.css';
import { makeClient } from './client';
import { CreatePricingTier, CustomersPage, PricingTiersPage } from './documents';
import { describe, renderErrors } from './errors';
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

/** One page of a Relay connection, reduced to what a list shows. */
interface Page {
  items: { id: string; text: string }[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/**
 * A list paged over Relay cursors behind a "load more" button. A reload
 * starts a new generation: a page still in flight from before (the first
 * load racing the reload after a create) is dropped, not appended. The
 * reload also waits for that page first, because urql shares an identical
 * query in flight instead of sending it again, and the list must come from
 * a request sent after the create.
 */
class Pager {
  private cursor: string | null = null;
  private generation = 0;
  private inflight: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly list: HTMLUListElement,
    private readonly more: HTMLButtonElement,
    private readonly fetchPage: (
      client: Client,
      after: string | null,
    ) => Promise<Page | CombinedError | undefined>,
  ) {
    more.addEventListener('click', () => void this.load(true));
  }

  /** Loads the first page (`more` false) or the next one. */
  async load(more: boolean): Promise<void> {
    if (!more) this.clear();
    const generation = this.generation;
    this.more.disabled = true;
    await this.inflight;
    if (generation !== this.generation || !client) return;
    const request = this.fetchPage(client, this.cursor);
    this.inflight = request.catch(() => undefined);
    const page = await request;
    if (generation !== this.generation) return;
    this.more.disabled = false;
    if (!(page && 'items' in page)) {
      if (page) showErrors(page);
      return;
    }
    this.list.append(...page.items.map(({ id, text }) => listItem(text, id)));
    this.cursor = page.endCursor;
    this.more.hidden = !page.hasNextPage;
  }

  clear(): void {
    this.generation += 1;
    this.cursor = null;
    this.list.replaceChildren();
    this.more.hidden = true;
    this.more.disabled = false;
  }
}

function showErrors(error: CombinedError): void {
  renderErrors(ui.errors, describe(error));
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

const tiers = new Pager(ui.tiers, ui.tiersMore, async (client, after) => {
  const result = await client.query(PricingTiersPage, { first: PAGE_SIZE, after }).toPromise();
  if (result.error || !result.data) return result.error;
  const { edges, pageInfo } = result.data.pricingTiers;
  return {
    items: edges.map(({ node }) => ({
      id: node.id,
      text: `${node.name} — ${node.ratePerMinute} ${node.currency}/min, per ${node.billingIncrementSeconds} s${
        node.isDefault ? ' (default)' : ''
      }`,
    })),
    endCursor: pageInfo.endCursor ?? null,
    hasNextPage: pageInfo.hasNextPage,
  };
});

const customers = new Pager(ui.customers, ui.customersMore, async (client, after) => {
  const result = await client.query(CustomersPage, { first: PAGE_SIZE, after }).toPromise();
  if (result.error || !result.data) return result.error;
  const { edges, pageInfo } = result.data.customers;
  return {
    items: edges.map(({ node }) => ({
      id: node.id,
      text: `${node.companyName ?? `${node.firstName} ${node.lastName}`} <${node.email}> ${node.status}`,
    })),
    endCursor: pageInfo.endCursor ?? null,
    hasNextPage: pageInfo.hasNextPage,
  };
});

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
  await tiers.load(false);
}

function enter(endpoint: string, token: string): void {
  client = makeClient(endpoint, token);
  ui.signIn.hidden = true;
  ui.signedIn.hidden = false;
  ui.signedInEndpoint.textContent = endpoint;
  ui.workspace.hidden = false;
  clearErrors();
  void tiers.load(false);
  void customers.load(false);
}

function leave(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  client = null;
  ui.signIn.hidden = false;
  ui.signedIn.hidden = true;
  ui.workspace.hidden = true;
  tiers.clear();
  customers.clear();
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
ui.createTier.addEventListener('submit', (event) => {
  event.preventDefault();
  void createTier(new FormData(ui.createTier));
});

ui.endpoint.value = sessionStorage.getItem(ENDPOINT_KEY) ?? DEFAULT_ENDPOINT;
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) enter(ui.endpoint.value, saved);
