//! A forgiving reading of Slack day files: a field of an unexpected type does not fail the file,
//! it is recorded so that one message can be rejected with a reason while the others are read.
//! Fields Debrief does not use (blocks, reactions, profiles…) are skipped without being built.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A string field as found: missing (or null), a string, or something else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Loose {
    #[default]
    Missing,
    Str(String),
    Other(&'static str),
}

impl Loose {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The string, if present and not blank.
    pub fn text(&self) -> Option<&str> {
        self.as_str().filter(|s| !s.trim().is_empty())
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Str(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Loose, E> {
        Ok(Loose::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Loose, E> {
        Ok(Loose::Other("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Loose, E> {
        Ok(Loose::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Loose, E> {
        Ok(Loose::Other("a number"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Missing)
    }
    fn visit_none<E: de::Error>(self) -> Result<Loose, E> {
        Ok(Loose::Missing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        Loose::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other("an object"))
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

/// The fields of a message that Debrief reads.
#[derive(Debug, Default)]
pub(crate) struct RawMessage {
    pub kind: Loose,
    pub subtype: Loose,
    pub user: Loose,
    pub username: Loose,
    pub bot_id: Loose,
    pub text: Loose,
    pub ts: Loose,
    pub thread_ts: Loose,
    pub hidden: Option<Value>,
    pub edited: Option<Value>,
    pub files: Option<Value>,
    pub file: Option<Value>,
    pub attachments: Option<Value>,
    pub bot_profile: Option<Value>,
    /// The comment of an old-style `file_comment` message (its author is here, not in `user`).
    pub comment: Option<Value>,
}

/// One element of a day file's array: a message, or something that is not an object.
#[derive(Debug)]
pub(crate) enum Element {
    Message(Box<RawMessage>),
    NotObject(&'static str),
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut m = RawMessage::default();
        while let Some(key) = map.next_key::<KeyName>()? {
            match key {
                KeyName::Type => m.kind = map.next_value()?,
                KeyName::Subtype => m.subtype = map.next_value()?,
                KeyName::User => m.user = map.next_value()?,
                KeyName::Username => m.username = map.next_value()?,
                KeyName::BotId => m.bot_id = map.next_value()?,
                KeyName::Text => m.text = map.next_value()?,
                KeyName::Ts => m.ts = map.next_value()?,
                KeyName::ThreadTs => m.thread_ts = map.next_value()?,
                KeyName::Hidden => m.hidden = Some(map.next_value()?),
                KeyName::Edited => m.edited = Some(map.next_value()?),
                KeyName::Files => m.files = Some(map.next_value()?),
                KeyName::File => m.file = Some(map.next_value()?),
                KeyName::Attachments => m.attachments = Some(map.next_value()?),
                KeyName::BotProfile => m.bot_profile = Some(map.next_value()?),
                KeyName::Comment => m.comment = Some(map.next_value()?),
                KeyName::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Element::Message(Box::new(m)))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Element, E> {
        Ok(Element::NotObject("a string"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Element, E> {
        Ok(Element::NotObject("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Element, E> {
        Ok(Element::NotObject("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Element, E> {
        Ok(Element::NotObject("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Element, E> {
        Ok(Element::NotObject("a number"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::NotObject("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::NotObject("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::NotObject("an array"))
    }
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

enum KeyName {
    Type,
    Subtype,
    User,
    Username,
    BotId,
    Text,
    Ts,
    ThreadTs,
    Hidden,
    Edited,
    Files,
    File,
    Attachments,
    BotProfile,
    Comment,
    Other,
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = KeyName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName, E> {
        Ok(match v {
            "type" => KeyName::Type,
            "subtype" => KeyName::Subtype,
            "user" => KeyName::User,
            "username" => KeyName::Username,
            "bot_id" => KeyName::BotId,
            "text" => KeyName::Text,
            "ts" => KeyName::Ts,
            "thread_ts" => KeyName::ThreadTs,
            "hidden" => KeyName::Hidden,
            "edited" => KeyName::Edited,
            "files" => KeyName::Files,
            "file" => KeyName::File,
            "attachments" => KeyName::Attachments,
            "bot_profile" => KeyName::BotProfile,
            "comment" => KeyName::Comment,
            _ => KeyName::Other,
        })
    }
}

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyName, D::Error> {
        d.deserialize_identifier(KeyVisitor)
    }
}

/// A whole day file: an array of elements.
#[derive(Debug)]
pub(crate) struct DayFile(pub Vec<Element>);

struct DayVisitor;

impl<'de> Visitor<'de> for DayVisitor {
    type Value = DayFile;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of messages")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DayFile, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(e) = seq.next_element::<Element>()? {
            out.push(e);
        }
        Ok(DayFile(out))
    }
}

impl<'de> Deserialize<'de> for DayFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DayFile, D::Error> {
        d.deserialize_seq(DayVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_fields_are_recorded_not_fatal() {
        let day: DayFile = serde_json::from_str(
            r#"[{"type":"message","ts":12,"text":"hi","blocks":[{"a":1}],"user":null}, 3, {"ts":"1.2","edited":{"ts":"2.0"}}]"#,
        )
        .expect("parses");
        assert_eq!(day.0.len(), 3);
        let Element::Message(m) = &day.0[0] else {
            panic!("message")
        };
        assert_eq!(m.ts, Loose::Other("a number"));
        assert_eq!(m.text.as_str(), Some("hi"));
        assert_eq!(m.user, Loose::Missing);
        assert!(matches!(day.0[1], Element::NotObject("a number")));
        let Element::Message(m) = &day.0[2] else {
            panic!("message")
        };
        assert!(m.edited.is_some());
    }

    #[test]
    fn a_file_must_be_an_array() {
        let e = serde_json::from_str::<DayFile>("{}").expect_err("object");
        assert_eq!(e.classify(), serde_json::error::Category::Data);
    }
}
