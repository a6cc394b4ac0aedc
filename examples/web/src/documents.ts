// Every operation the app runs. GraphQL Code Generator reads these, types
// them against ../../schema.graphql, and lists them in the persisted
// documents manifest: the gateway runs these and nothing else.
import { graphql } from './gql';

export const PricingTiersPage = graphql(`
  query PricingTiersPage($first: Int!, $after: String) {
    pricingTiers(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          name
          currency
          ratePerMinute
          billingIncrementSeconds
          isDefault
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CustomersPage = graphql(`
  query CustomersPage($first: Int!, $after: String) {
    customers(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          customerType
          companyName
          firstName
          lastName
          email
          status
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const CreatePricingTier = graphql(`
  mutation CreatePricingTier($input: CreatePricingTierInput!) {
    createPricingTier(input: $input) {
      id
      name
      currency
      ratePerMinute
      billingIncrementSeconds
      isDefault
    }
  }
`);
