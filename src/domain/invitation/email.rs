//! The invitation email: what the invitee reads, composed from the
//! invitation alone so its wording is tested without any mail service.
//!
//! The accept token travels only in the link's fragment (`#token=…`):
//! browsers never send a fragment to a server, so the token cannot land in
//! a web server's access log or in a `Referer` header of the accept page.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use url::Url;

use super::super::access::Permission;

/// Who sent an invitation, as the email names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inviter {
    /// A member of the customer, by name and email.
    Member {
        /// First and last name.
        name: String,
        /// The member's sign-in email.
        email: String,
    },
    /// The platform's own administrators.
    Platform,
}

/// A composed email, ready for any sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The one recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

/// What an invitation email says.
#[derive(Debug, Clone)]
pub struct InvitationEmail<'a> {
    /// The invitee.
    pub to: &'a str,
    /// The customer's display name.
    pub customer_name: &'a str,
    /// Who invited.
    pub inviter: &'a Inviter,
    /// What the membership will allow.
    pub permissions: &'a [Permission],
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// The accept page (`INVITATION_ACCEPT_URL`).
    pub accept_url: &'a Url,
    /// The secret the link carries.
    pub token: &'a str,
}

/// What a permission lets the member do, in words.
fn describe(permission: Permission) -> &'static str {
    match permission {
        Permission::CustomerRead => "see the customer's profile",
        Permission::CustomerWrite => "change the customer's profile",
        Permission::UsersRead => "see the customer's members and invitations",
        Permission::UsersManage => "invite, change and remove members",
        Permission::AccountsRead => "see the telephony accounts",
        Permission::AccountsWrite => "create and change telephony accounts",
        Permission::BillingRead => "see billing settings",
        Permission::BillingWrite => "change billing settings",
    }
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl InvitationEmail<'_> {
    /// The accept link: the accept page with the token in its fragment.
    pub fn link(&self) -> String {
        let mut link = self.accept_url.clone();
        link.set_fragment(Some(&format!("token={}", self.token)));
        link.into()
    }

    /// The email, in text and HTML.
    pub fn compose(&self) -> Email {
        let link = self.link();
        let who = match self.inviter {
            Inviter::Member { name, email } => format!("{name} ({email})"),
            Inviter::Platform => "The platform's administrators".to_owned(),
        };
        let rights: Vec<&str> = self.permissions.iter().map(|p| describe(*p)).collect();
        let expires = self.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
        let subject = format!(
            "You are invited to join {} on Switchboard",
            self.customer_name
        );

        let mut text = format!(
            "{who} invited you to join {customer} on Switchboard.\n\n",
            customer = self.customer_name
        );
        if rights.is_empty() {
            text.push_str("As a member you will be able to sign in; you will get no rights on the customer until a manager grants them.\n");
        } else {
            text.push_str("As a member you will be able to:\n");
            for right in &rights {
                text.push_str("- ");
                text.push_str(right);
                text.push('\n');
            }
        }
        let _ = write!(
            text,
            "\nAccept the invitation here (the link works until {expires}):\n{link}\n\n\
             If you already have a Switchboard account, sign in first and accept while signed in.\n\
             If you did not expect this invitation, ignore this email: nothing happens unless you accept.\n"
        );

        let mut html = format!(
            "<!doctype html><html><body><p>{who} invited you to join <strong>{customer}</strong> on Switchboard.</p>",
            who = escape(&who),
            customer = escape(self.customer_name),
        );
        if rights.is_empty() {
            html.push_str("<p>As a member you will be able to sign in; you will get no rights on the customer until a manager grants them.</p>");
        } else {
            html.push_str("<p>As a member you will be able to:</p><ul>");
            for right in &rights {
                let _ = write!(html, "<li>{}</li>", escape(right));
            }
            html.push_str("</ul>");
        }
        let _ = write!(
            html,
            "<p><a href=\"{href}\">Accept the invitation</a> (the link works until {expires}).</p>\
             <p>If you already have a Switchboard account, sign in first and accept while signed in.</p>\
             <p>If you did not expect this invitation, ignore this email: nothing happens unless you accept.</p>\
             </body></html>",
            href = escape(&link),
        );
        Email {
            to: self.to.to_owned(),
            subject,
            text,
            html,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(inviter: &'a Inviter, url: &'a Url) -> InvitationEmail<'a> {
        InvitationEmail {
            to: "ada@example.com",
            customer_name: "Acme <Tele> & Co",
            inviter,
            permissions: &[Permission::AccountsRead, Permission::UsersManage],
            expires_at: DateTime::parse_from_rfc3339("2026-12-13T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            accept_url: url,
            token: "tok_123-abc",
        }
    }

    #[test]
    fn the_token_travels_only_in_the_fragment() {
        let url = Url::parse("https://app.example.com/accept?from=mail").unwrap();
        let platform = Inviter::Platform;
        let email = sample(&platform, &url);
        let link = Url::parse(&email.link()).unwrap();
        assert_eq!(link.fragment(), Some("token=tok_123-abc"));
        assert_eq!(link.query(), Some("from=mail"));
        assert!(!link.path().contains("tok_123"));
    }

    #[test]
    fn both_parts_name_the_customer_the_inviter_the_rights_and_the_expiry() {
        let url = Url::parse("https://app.example.com/accept").unwrap();
        let inviter = Inviter::Member {
            name: "Grace Hopper".into(),
            email: "grace@acme.example".into(),
        };
        let mail = sample(&inviter, &url).compose();
        assert_eq!(mail.to, "ada@example.com");
        assert!(mail.subject.contains("Acme <Tele> & Co"));
        for part in [&mail.text, &mail.html] {
            assert!(part.contains("Grace Hopper"), "{part}");
            assert!(part.contains("grace@acme.example"), "{part}");
            assert!(part.contains("see the telephony accounts"), "{part}");
            assert!(part.contains("invite, change and remove members"), "{part}");
            assert!(part.contains("2026-12-13 10:00 UTC"), "{part}");
            assert!(
                part.contains("https://app.example.com/accept#token=tok_123-abc"),
                "{part}"
            );
        }
        assert!(mail.text.contains("Acme <Tele> & Co"));
        // The customer's name is text, never markup, in the HTML part.
        assert!(mail.html.contains("Acme &lt;Tele&gt; &amp; Co"));
        assert!(!mail.html.contains("<Tele>"));
    }
}
