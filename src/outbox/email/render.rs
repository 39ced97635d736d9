//! A mail's two parts from `templates/mail/`: the text (`mail.txt`) and the
//! HTML (`mail.html`, every value escaped by tera's autoescape for `.html`),
//! and the message as it is sent: `multipart/alternative`, `From`, `To`,
//! `Subject`, `Date` and a `Message-ID` made from the outbox row's id (the
//! same on every retry, so a mail tried twice can be recognised).

use super::words::Mail;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use std::sync::OnceLock;
use tera::{Context, Tera};

fn templates() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::new();
        tera.add_raw_templates([
            ("mail.txt", include_str!("../../../templates/mail/mail.txt")),
            (
                "mail.html",
                include_str!("../../../templates/mail/mail.html"),
            ),
        ])
        .expect("mail templates parse");
        tera
    })
}

/// The text and the HTML part of `mail`.
pub fn parts(mail: &Mail) -> Result<(String, String), String> {
    let context = Context::from_serialize(mail).map_err(|e| format!("mail context: {e}"))?;
    let render = |name: &str| {
        templates()
            .render(name, &context)
            .map_err(|e| format!("mail template {name}: {e}"))
    };
    Ok((render("mail.txt")?, render("mail.html")?))
}

/// The message of `mail` from `from` to `to`, with id `<{id}@{domain}>`.
pub fn message(
    mail: &Mail,
    from: Mailbox,
    to: &str,
    id: &str,
    domain: &str,
) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|_| "the recipient's address is not a valid mail address".to_string())?;
    let (text, html) = parts(mail)?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(format!("<{id}@{domain}>")))
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, text))
                .singlepart(part(ContentType::TEXT_HTML, html)),
        )
        .map_err(|e| format!("could not make the mail: {e}"))
}

/// One part, always quoted-printable: readable as sent, and the same
/// encoding whatever the words (a reader of the raw mail sees what it says).
fn part(content_type: ContentType, body: String) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::email::words::Fact;

    fn mail() -> Mail {
        Mail {
            subject: "bob asks to access your account".into(),
            greeting: "alice".into(),
            lead: vec!["bob asks to act in your account for 2 hours.".into()],
            facts: vec![Fact {
                label: "Reason",
                value: "<script>alert(1)</script> & \"more\"".into(),
            }],
            scopes_intro: "What bob could do:".into(),
            scopes: vec!["See your orders".into()],
            link_words: "To allow or decline it, sign in to your account:".into(),
            link: "https://id.example.com/account".into(),
            footer: "You get this mail because someone asks to act in your account.".into(),
        }
    }

    #[test]
    fn the_html_part_escapes_every_value_and_the_text_part_reads_as_written() {
        let (text, html) = parts(&mail()).unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://id.example.com/account\">"),
            "{html}"
        );
        assert!(
            text.starts_with("Hello alice,\n\nbob asks to act in your account for 2 hours.\n"),
            "{text}"
        );
        assert!(
            text.contains("\nReason: <script>alert(1)</script> & \"more\"\n"),
            "{text}"
        );
        assert!(
            text.contains("\nWhat bob could do:\n- See your orders\n"),
            "{text}"
        );
        assert!(
            text.contains("sign in to your account:\nhttps://id.example.com/account\n"),
            "{text}"
        );
    }

    #[test]
    fn the_message_is_multipart_alternative_with_its_headers() {
        let from: Mailbox = "behalf <behalf@localhost>".parse().unwrap();
        let message = message(
            &mail(),
            from,
            "alice@example.com",
            "out_1",
            "id.example.com",
        )
        .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        for header in [
            "From: behalf <behalf@localhost>\r\n",
            "To: alice@example.com\r\n",
            "Subject: bob asks to access your account\r\n",
            "Message-ID: <out_1@id.example.com>\r\n",
            "Date: ",
            "Content-Type: multipart/alternative;",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
        ] {
            assert!(raw.contains(header), "{header:?} in {raw}");
        }
        assert!(
            message_err("not an address").contains("not a valid mail address"),
            "a bad recipient is refused in words"
        );
    }

    fn message_err(to: &str) -> String {
        let from: Mailbox = "behalf <behalf@localhost>".parse().unwrap();
        message(&mail(), from, to, "out_1", "id.example.com").unwrap_err()
    }
}
