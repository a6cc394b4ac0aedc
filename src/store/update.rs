//! A builder for `UpdateExpression`s that set only the attributes a patch
//! changes, so concurrent patches of different fields both survive.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// Accumulates `SET` and `REMOVE` clauses with placeholder names and values.
#[derive(Debug, Default)]
pub(crate) struct UpdateBuilder {
    sets: Vec<String>,
    removes: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl UpdateBuilder {
    /// Sets `attribute` to `value`.
    pub(crate) fn set(&mut self, attribute: &str, value: AttributeValue) -> &mut Self {
        let (name, placeholder) = self.placeholders(attribute);
        self.sets.push(format!("{name} = {placeholder}"));
        self.values.insert(placeholder, value);
        self
    }

    /// Adds `amount` to the number `attribute`.
    pub(crate) fn increment(&mut self, attribute: &str, amount: i64) -> &mut Self {
        let (name, placeholder) = self.placeholders(attribute);
        self.sets.push(format!("{name} = {name} + {placeholder}"));
        self.values
            .insert(placeholder, AttributeValue::N(amount.to_string()));
        self
    }

    /// Removes `attribute` from the item.
    pub(crate) fn remove(&mut self, attribute: &str) -> &mut Self {
        let (name, _) = self.placeholders(attribute);
        self.removes.push(name);
        self
    }

    /// Adds a value placeholder for use in a condition expression.
    pub(crate) fn value(&mut self, placeholder: &str, value: AttributeValue) -> &mut Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// Adds a name placeholder for use in a condition expression.
    pub(crate) fn name(&mut self, attribute: &str) -> String {
        self.placeholders(attribute).0
    }

    fn placeholders(&mut self, attribute: &str) -> (String, String) {
        let name = format!("#{attribute}");
        self.names.insert(name.clone(), attribute.to_owned());
        (name, format!(":{attribute}"))
    }

    /// The update expression and its placeholder maps.
    pub(crate) fn build(
        self,
    ) -> (
        String,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        let mut expression = String::new();
        if !self.sets.is_empty() {
            expression.push_str("SET ");
            expression.push_str(&self.sets.join(", "));
        }
        if !self.removes.is_empty() {
            if !expression.is_empty() {
                expression.push(' ');
            }
            expression.push_str("REMOVE ");
            expression.push_str(&self.removes.join(", "));
        }
        (expression, self.names, self.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_set_and_remove_clauses() {
        let mut b = UpdateBuilder::default();
        b.set("name", AttributeValue::S("x".into()))
            .increment("version", 1)
            .remove("description");
        let (expr, names, values) = b.build();
        assert_eq!(
            expr,
            "SET #name = :name, #version = #version + :version REMOVE #description"
        );
        assert_eq!(names.len(), 3);
        assert_eq!(values.len(), 2);
    }
}

impl UpdateBuilder {
    /// Sets every attribute whose value differs between `old` and `new`
    /// and removes those `new` lacks, except the attributes in `skip`.
    pub(crate) fn diff(
        old: &std::collections::HashMap<String, AttributeValue>,
        new: &std::collections::HashMap<String, AttributeValue>,
        skip: &[&str],
    ) -> Self {
        let mut builder = Self::default();
        let mut names: Vec<&String> = new.keys().chain(old.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            if skip.contains(&name.as_str()) {
                continue;
            }
            match (old.get(name), new.get(name)) {
                (Some(before), Some(after)) if before == after => {}
                (_, Some(after)) => {
                    builder.set(name, after.clone());
                }
                (Some(_), None) => {
                    builder.remove(name);
                }
                (None, None) => {}
            }
        }
        builder
    }

    /// Whether nothing would be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.sets.is_empty() && self.removes.is_empty()
    }
}

#[cfg(test)]
mod diff_tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn diff_writes_only_what_changed() {
        let s = |v: &str| AttributeValue::S(v.into());
        let old = HashMap::from([
            ("a".to_owned(), s("1")),
            ("b".to_owned(), s("2")),
            ("c".to_owned(), s("3")),
        ]);
        let new = HashMap::from([
            ("a".to_owned(), s("1")),
            ("b".to_owned(), s("9")),
            ("d".to_owned(), s("4")),
        ]);
        let (expr, _, values) = UpdateBuilder::diff(&old, &new, &[]).build();
        assert_eq!(expr, "SET #b = :b, #d = :d REMOVE #c");
        assert_eq!(values.len(), 2);
        assert!(UpdateBuilder::diff(&old, &old, &[]).is_empty());
    }
}
