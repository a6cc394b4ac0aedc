// Every operation the app runs, on both of its pages (index.html and
// accept.html). GraphQL Code Generator reads these, types them against
// ../../schema.graphql, and lists them in the persisted documents
// manifest: the gateway runs these and nothing else.
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

// The accept page's one operation, sent without a token by a newcomer (the
// invitation token is the credential) or with the signed-in user's token
// by someone who already has an account. The payload is flat on purpose:
// an anonymous caller gets ids, nothing to traverse.
export const AcceptInvitation = graphql(`
  mutation AcceptInvitation($token: String!, $firstName: String, $lastName: String, $password: String) {
    acceptInvitation(token: $token, firstName: $firstName, lastName: $lastName, password: $password) {
      userId
      customerId
      createdUser
      permissions
    }
  }
`);
