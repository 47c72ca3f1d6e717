//! Sending one notification to one destination through one channel: email over SMTP (lettre),
//! a Slack-compatible incoming webhook, or a signed JSON webhook.
//!
//! Every send carries the notification's id — the same on every attempt — so a receiver can drop
//! a repeat: an email's `Message-ID` is made from it, webhooks get it as `X-Debrief-Delivery`
//! (and in the body). Signed webhooks: `X-Debrief-Timestamp: <unix seconds>` and
//! `X-Debrief-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>`,
//! so a receiver can check both who sent it and that it is fresh.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use debrief_core::notify::{
    Channel, ChannelTarget, SmtpSecurity, SmtpSettings, Topic, parse_mailbox,
};
use debrief_core::{ActionId, Key};
use jiff::Timestamp;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// How long one send may take (connecting, TLS, the server's answer).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// A notification, ready to send anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// What makes it unique (`remind:overdue:7:2026-11-20`, `digest:2026-W48:channel:2`): the
    /// same on every attempt.
    pub id: String,
    pub topic: Topic,
    /// What happened, for webhooks: `reminder.before`, `reminder.overdue`,
    /// `reminder.escalate`, `reminder.review`, `digest`, `test`.
    pub event: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
    /// The page it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Who it is for (a person; `None` for a team's notification).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postmortem: Option<Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionId>,
    /// The structured reminder or digest, for webhook receivers.
    #[serde(default)]
    pub details: serde_json::Value,
}

/// What a signed webhook receives.
#[derive(Debug, Serialize)]
struct WebhookBody<'a> {
    id: &'a str,
    event: &'a str,
    topic: Topic,
    subject: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    postmortem: Option<Key>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<ActionId>,
    details: &'a serde_json::Value,
    sent_at: Timestamp,
}

/// Sends notifications. The real one is [`ChannelSender`]; tests may record instead.
#[async_trait]
pub trait Deliver: Send + Sync + fmt::Debug {
    /// Sends `message` through `channel` — to the address `to` for email, to the channel's
    /// room otherwise. An error says why, for the job's last error (retried with backoff).
    async fn send(
        &self,
        channel: &Channel,
        to: Option<&str>,
        message: &Outgoing,
        now: Timestamp,
    ) -> Result<(), String>;
}

/// Certificate authorities trusted for SMTP and webhooks besides the public ones: a company's
/// own CA, for a mail relay or a webhook receiver inside the network.
#[derive(Debug, Clone, Default)]
pub struct TrustedRoots {
    /// The certificates for webhooks (HTTPS); empty trusts the public roots only.
    http: Vec<reqwest::Certificate>,
    /// The same certificates for SMTP.
    smtp: Option<lettre::transport::smtp::client::Certificate>,
}

impl TrustedRoots {
    /// The certificates of a PEM file (one or several `BEGIN CERTIFICATE` blocks). An error says
    /// what is wrong with the text.
    pub fn from_pem(pem: &[u8]) -> Result<TrustedRoots, String> {
        let http = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| format!("not a PEM certificate file: {e}"))?;
        if http.is_empty() {
            return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
        }
        let smtp = lettre::transport::smtp::client::Certificate::from_pem(pem)
            .map_err(|e| format!("not a PEM certificate file: {e}"))?;
        Ok(TrustedRoots {
            http,
            smtp: Some(smtp),
        })
    }
}

/// Sends for real: SMTP, Slack-compatible and signed webhooks.
#[derive(Debug, Clone)]
pub struct ChannelSender {
    http: reqwest::Client,
    roots: TrustedRoots,
}

impl Default for ChannelSender {
    fn default() -> ChannelSender {
        ChannelSender::new(&TrustedRoots::default())
    }
}

impl ChannelSender {
    /// A sender that trusts the public certificate authorities and `roots`.
    pub fn new(roots: &TrustedRoots) -> ChannelSender {
        let mut builder = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("debrief/", env!("CARGO_PKG_VERSION")));
        for certificate in &roots.http {
            builder = builder.add_root_certificate(certificate.clone());
        }
        let http = builder.build().unwrap_or_else(|_| reqwest::Client::new());
        ChannelSender {
            http,
            roots: roots.clone(),
        }
    }

    async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<(), String> {
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| describe_http_error(url, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        Err(format!(
            "{} answered {status}{}",
            host_of(url),
            if text.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", text.trim())
            }
        ))
    }
}

/// Where a URL points, without its path (a Slack URL's path is its secret).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| "the receiver".to_owned())
}

fn describe_http_error(url: &str, e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not be reached"
    } else {
        "failed"
    };
    // The error's own text may hold the URL (and with it a Slack token): name the host only.
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        format!("{} {what}", host_of(url))
    } else {
        format!("{} {what}: {cause}{}", host_of(url), ca_hint(&cause))
    }
}

/// A pointer to `--ca-file` when a TLS error says the server's certificate authority is unknown.
fn ca_hint(error: &str) -> &'static str {
    if error.contains("UnknownIssuer") {
        " (if a certificate authority of your own signed it, trust that CA with --ca-file)"
    } else {
        ""
    }
}

#[async_trait]
impl Deliver for ChannelSender {
    async fn send(
        &self,
        channel: &Channel,
        to: Option<&str>,
        message: &Outgoing,
        now: Timestamp,
    ) -> Result<(), String> {
        match &channel.fields.target {
            ChannelTarget::Email(smtp) => {
                let to = to.ok_or("an email needs an address to go to")?;
                send_email(smtp, &self.roots, to, message, now).await
            }
            ChannelTarget::Slack { url } => {
                let body = serde_json::to_vec(&serde_json::json!({ "text": slack_text(message) }))
                    .map_err(|e| e.to_string())?;
                self.post(url.as_str(), body, &[]).await
            }
            ChannelTarget::Webhook { url, secret } => {
                let body = serde_json::to_vec(&WebhookBody {
                    id: &message.id,
                    event: &message.event,
                    topic: message.topic,
                    subject: &message.subject,
                    text: &message.body,
                    link: message.link.as_deref(),
                    to: message.to_name.as_deref(),
                    postmortem: message.postmortem,
                    action: message.action,
                    details: &message.details,
                    sent_at: now,
                })
                .map_err(|e| e.to_string())?;
                let timestamp = now.as_second().to_string();
                let signature = sign(secret, &timestamp, &body);
                self.post(
                    url.as_str(),
                    body,
                    &[
                        ("X-Debrief-Event", message.event.clone()),
                        ("X-Debrief-Delivery", message.id.clone()),
                        ("X-Debrief-Timestamp", timestamp),
                        ("X-Debrief-Signature", signature),
                    ],
                )
                .await
            }
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    format!(
        "sha256={}",
        crate::auth::hex(&crate::hooks::hmac_sha256(secret.as_bytes(), &signed))
    )
}

/// Slack's mrkdwn: `&`, `<` and `>` are escaped; the subject in bold; the link as `<url|label>`.
pub fn slack_text(message: &Outgoing) -> String {
    fn escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    let mut text = format!(
        "*{}*\n{}",
        escape(&message.subject),
        escape(message.body.trim_end())
    );
    if let Some(link) = &message.link {
        let label = message
            .postmortem
            .map_or_else(|| "Open in Debrief".to_owned(), |k| format!("Open {k}"));
        text.push_str(&format!("\n<{link}|{label}>"));
    }
    text
}

/// The `Message-ID` of a notification to one address: the same on every attempt.
fn message_id(message: &Outgoing, to: &str, from_domain: &str) -> String {
    let mut hash = sha2::Sha256::new();
    hash.update(message.id.as_bytes());
    hash.update(b"\n");
    hash.update(to.as_bytes());
    let digest = hash.finalize();
    format!("<{}@{from_domain}>", crate::auth::hex(&digest[..16]))
}

fn mailbox(s: &str, field: &str) -> Result<Mailbox, String> {
    let (name, email) = parse_mailbox(s).map_err(|e| format!("{field}: {}", e.message))?;
    let address = email
        .as_str()
        .parse()
        .map_err(|e| format!("{field}: {s:?} is not an address: {e}"))?;
    Ok(Mailbox::new(name, address))
}

/// The transport for `smtp`: implicit TLS, STARTTLS (required) or plain, with a login if given.
/// TLS trusts the public certificate authorities and `roots`.
fn transport(
    smtp: &SmtpSettings,
    roots: &TrustedRoots,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let host = smtp.host.trim();
    let tls = || -> Result<TlsParameters, String> {
        let mut params = TlsParameters::builder(host.to_owned());
        if let Some(certificate) = &roots.smtp {
            params = params.add_root_certificate(certificate.clone());
        }
        params
            .build_rustls()
            .map_err(|e| format!("SMTP server {host}: {e}"))
    };
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host);
    let builder = match smtp.security {
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(tls()?)),
        SmtpSecurity::StartTls => builder.tls(Tls::Required(tls()?)),
        SmtpSecurity::Plain => builder,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SEND_TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

async fn send_email(
    smtp: &SmtpSettings,
    roots: &TrustedRoots,
    to: &str,
    message: &Outgoing,
    now: Timestamp,
) -> Result<(), String> {
    let from = mailbox(&smtp.from, "from")?;
    let mut recipient = mailbox(to, "to")?;
    if recipient.name.is_none()
        && let Some(name) = &message.to_name
    {
        recipient.name = Some(name.clone());
    }
    let domain = from.email.domain().to_owned();
    let mut body = message.body.clone();
    if let Some(link) = &message.link {
        body.push_str(&format!("\n\n{link}\n"));
    }
    let email = lettre::Message::builder()
        .from(from)
        .to(recipient)
        .subject(message.subject.clone())
        .message_id(Some(message_id(message, to, &domain)))
        .date(std::time::SystemTime::from(now))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("cannot write the email: {e}"))?;
    transport(smtp, roots)?.send(email).await.map_err(|e| {
        let e = e.to_string();
        format!(
            "SMTP server {}:{}: {e}{}",
            smtp.host.trim(),
            smtp.port,
            ca_hint(&e)
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing() -> Outgoing {
        Outgoing {
            id: "remind:overdue:7:2026-11-20".into(),
            topic: Topic::Reminders,
            event: "reminder.overdue".into(),
            subject: "Check-in passed: <pool> alert & dashboards".into(),
            body: "Add a note.".into(),
            link: Some("https://debrief.example/pm/PM-3".into()),
            to_name: Some("Ana".into()),
            postmortem: Some(Key::new(3).expect("key")),
            action: Some(ActionId(7)),
            details: serde_json::Value::Null,
        }
    }

    #[test]
    fn slack_text_escapes_and_links() {
        let t = slack_text(&outgoing());
        assert!(
            t.starts_with("*Check-in passed: &lt;pool&gt; alert &amp; dashboards*"),
            "{t}"
        );
        assert!(
            t.ends_with("<https://debrief.example/pm/PM-3|Open PM-3>"),
            "{t}"
        );
    }

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let a = sign("a shared secret of length", "1700000000", b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, sign("a shared secret of length", "1700000001", b"{}"));
        assert_ne!(a, sign("a shared secret of length", "1700000000", b"{ }"));
        assert_ne!(a, sign("another shared secret!!!", "1700000000", b"{}"));
    }

    #[test]
    fn message_ids_are_stable_per_address() {
        let m = outgoing();
        let a = message_id(&m, "ana@example.com", "example.com");
        assert_eq!(a, message_id(&m, "ana@example.com", "example.com"));
        assert_ne!(a, message_id(&m, "bo@example.com", "example.com"));
        assert!(a.starts_with('<') && a.ends_with("@example.com>"), "{a}");
    }

    #[test]
    fn hosts_are_named_without_paths() {
        assert_eq!(
            host_of("https://hooks.example/services/T/B/secret"),
            "hooks.example"
        );
        assert_eq!(host_of("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}
