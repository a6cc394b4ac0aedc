//! `CustomerFilterInput`: what narrows `customers`.

use async_graphql::InputObject;

use super::super::types::{CustomerStatus, CustomerType};
use crate::domain::country::parse_country;
use crate::domain::customer::search_key;
use crate::graphql::error::ApiError;
use crate::store::CustomerFilter;

/// Narrows `customers`; all fields optional, combined with AND.
#[derive(InputObject, Default)]
pub struct CustomerFilterInput {
    /// Only this status.
    status: Option<CustomerStatus>,
    /// Only this type.
    customer_type: Option<CustomerType>,
    /// Only this country (ISO 3166-1 alpha-2).
    country: Option<String>,
    /// Prefix (2 to 100 characters) of the email, company, first or last
    /// name; case- and accent-insensitive. Results are in match order.
    search: Option<String>,
    /// Admins only: list just the customers whose deletion was interrupted
    /// (they appear in no other list and cannot be looked up); finish each
    /// with `deleteCustomer`. Cannot be combined with `search`.
    #[graphql(default = false)]
    deleting: bool,
}

/// Longest `filter.search`, in characters.
const MAX_SEARCH_LEN: usize = 100;

impl CustomerFilterInput {
    pub(in crate::graphql::customers) fn parse(self) -> Result<CustomerFilter, ApiError> {
        let search = self
            .search
            .map(|text| {
                if text.chars().count() > MAX_SEARCH_LEN {
                    return Err(ApiError::bad_input(
                        "filter.search",
                        format!("must be at most {MAX_SEARCH_LEN} characters"),
                    ));
                }
                let key = search_key(&text);
                if key.chars().count() < 2 {
                    Err(ApiError::bad_input(
                        "filter.search",
                        "must have at least 2 characters",
                    ))
                } else {
                    Ok(key)
                }
            })
            .transpose()?;
        if self.deleting && search.is_some() {
            return Err(ApiError::bad_input(
                "filter.deleting",
                "cannot be combined with `search`",
            ));
        }
        Ok(CustomerFilter {
            deleting: self.deleting,
            status: self.status.map(Into::into),
            customer_type: self.customer_type.map(Into::into),
            country: self
                .country
                .map(|c| parse_country(&c).map_err(|m| ApiError::bad_input("filter.country", m)))
                .transpose()?,
            search,
        })
    }
}
