//! Listing customers: by index, filtered, and by search prefix, within
//! the store's read limit.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::super::codec::{key, s};
use super::super::paging::fill_page;
use super::super::search::search_page;
use super::super::{StoreError, cursor, keys};
use super::{CustomerItem, Customers};
use crate::domain::customer::{Customer, CustomerStatus, CustomerType, search_key};
use crate::domain::page::{Page, PageRequest};

/// Filters of `customers(filter:)`; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Only this status.
    pub status: Option<CustomerStatus>,
    /// Only this type.
    pub customer_type: Option<CustomerType>,
    /// Only this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Prefix of email, company, first or last name, already normalised
    /// with [`search_key`] and at least two characters long.
    pub search: Option<String>,
    /// Only customers whose deletion started and has not finished (a crash
    /// or timeout interrupted it); they appear in no other list.
    pub deleting: bool,
}

impl CustomerFilter {
    /// The index, its key attributes and the partition that serve this
    /// filter best (see `docs/data-model.md`).
    fn index(&self) -> (&'static str, &'static str, &'static str, String) {
        if self.deleting {
            (
                keys::GSI1,
                "gsi1pk",
                "gsi1sk",
                keys::DELETING_CUSTOMERS.to_owned(),
            )
        } else if let Some(status) = self.status {
            (
                keys::GSI2,
                "gsi2pk",
                "gsi2sk",
                keys::customers_with_status(status.as_str()),
            )
        } else if let Some(country) = &self.country {
            (
                keys::GSI3,
                "gsi3pk",
                "gsi3sk",
                keys::customers_in_country(country),
            )
        } else {
            (
                keys::GSI1,
                "gsi1pk",
                "gsi1sk",
                keys::ALL_CUSTOMERS.to_owned(),
            )
        }
    }

    /// The filter expression for what [`Self::index`] does not narrow by,
    /// with its attribute names and values.
    #[expect(
        clippy::type_complexity,
        reason = "the three parts the query builder takes"
    )]
    fn remaining_conditions(
        &self,
    ) -> (
        Option<String>,
        Option<HashMap<String, String>>,
        HashMap<String, AttributeValue>,
    ) {
        let mut conditions = Vec::new();
        let mut values = HashMap::new();
        if let Some(t) = self.customer_type {
            conditions.push("customerType = :type");
            values.insert(
                ":type".into(),
                s(if t == CustomerType::Business {
                    "BUSINESS"
                } else {
                    "PERSONAL"
                }),
            );
        }
        if let (Some(status), true) = (self.status, self.deleting) {
            conditions.push("#status = :status");
            values.insert(":status".into(), s(status.as_str()));
        }
        if let (Some(country), true) = (&self.country, self.status.is_some() || self.deleting) {
            conditions.push("country = :country");
            values.insert(":country".into(), s(country.clone()));
        }
        let names = (self.status.is_some() && self.deleting)
            .then(|| HashMap::from([("#status".to_owned(), "status".to_owned())]));
        let expression = (!conditions.is_empty()).then(|| conditions.join(" AND "));
        (expression, names, values)
    }

    fn matches(&self, customer: &Customer) -> bool {
        self.status.is_none_or(|s| s == customer.status)
            && self
                .customer_type
                .is_none_or(|t| t == customer.profile.customer_type)
            && self
                .country
                .as_ref()
                .is_none_or(|c| *c == customer.profile.country)
    }
}

impl Customers {
    /// One page of customers, newest first, narrowed by `filter`. A page
    /// reads at most the store's read limit of items; a sparse filter may
    /// so return fewer than `first` (even none) with more to follow.
    pub async fn list(
        &self,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        if let Some(search) = &filter.search {
            return self.search(search, filter, page).await;
        }
        let (index, pk_attr, sk_attr, partition) = filter.index();
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
                let mut start = key(keys::customer(&parts[0]));
                start.insert(pk_attr.to_owned(), s(partition.clone()));
                start.insert(sk_attr.to_owned(), s(parts[0].clone()));
                Some(start)
            }
            None => None,
        };
        let (filter_expression, names, mut values) = filter.remaining_conditions();
        values.insert(":pk".to_owned(), s(partition.clone()));
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(index)
            .key_condition_expression(format!("{pk_attr} = :pk"))
            .set_filter_expression(filter_expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(false);
        let filled =
            fill_page::<CustomerItem>(query, start, page.first, 25, self.db.read_limit).await?;
        let resume_cursor = filled.resume_cursor(sk_attr);
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.id]);
                item.into_domain().map(|c| (c, cursor))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            has_next_page: filled.has_next_page,
            resume_cursor,
        })
    }

    /// Prefix search over the customers' search terms, in term order,
    /// reading at most the store's read limit of terms per page.
    async fn search(
        &self,
        text: &str,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        let prefix = search_key(text);
        let partition = keys::customer_search_partition(&prefix);
        search_page(
            &self.db,
            partition,
            &prefix,
            "customerId",
            page,
            |ids| async move { self.get_many(&ids).await },
            |customer| filter.matches(customer),
        )
        .await
    }
}
