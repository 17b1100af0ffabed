//! The session held in memory, and the messages that hand it between tabs of the same app over a
//! BroadcastChannel (memory to memory: nothing is written to storage). A message is JSON text:
//! `{"t":"session","gen":N,"s":{...}}`, `{"t":"ended","gen":N}`, or `{"t":"ask"}`.
//! `gen` orders session states across tabs: a tab takes a session only if it is newer than its own.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::error::{ErrorCode, Result};
use crate::json::{self, Json};
use crate::types::{AccessToken, RefreshToken, TokenSet};

/// What a signed-in session holds. Lives only in the `Client`, in the wasm instance's memory.
pub struct Session {
    pub tokens: TokenSet,
    /// The verified ID-token claims, as JSON text (for the app) and parsed (for later checks).
    pub claims_text: String,
    pub claims: Json,
    /// Unix seconds when the access token expires, if the provider said.
    pub expires_at: Option<f64>,
    /// With DPoP: the id of this session's key pair (a fresh one per login; not a secret).
    pub dpop_key: Option<String>,
}

pub enum Message {
    Session { gen: u64, session: Session },
    Ended { gen: u64 },
    Ask,
}

fn push_member(o: &mut String, name: &str, value: &str) {
    o.push(',');
    json::write_str(o, name);
    o.push(':');
    json::write_str(o, value);
}

impl Session {
    pub fn sub(&self) -> Option<&str> {
        self.claims.str_member("sub")
    }

    fn to_json(&self) -> String {
        let mut o = String::from("{\"claims\":");
        o.push_str(&self.claims_text);
        push_member(&mut o, "at", self.tokens.access_token.as_str());
        if let Some(rt) = &self.tokens.refresh_token {
            push_member(&mut o, "rt", rt.as_str());
        }
        if let Some(it) = &self.tokens.id_token {
            push_member(&mut o, "it", it);
        }
        if let Some(s) = &self.tokens.scope {
            push_member(&mut o, "scope", s);
        }
        if let Some(e) = self.expires_at {
            o.push_str(",\"exp\":");
            json::write_u64(&mut o, e.max(0.0) as u64);
        }
        if let Some(k) = &self.dpop_key {
            push_member(&mut o, "dk", k);
        }
        o.push('}');
        o
    }

    /// What a sealed session keeps across reloads: the refresh token, the ID token (for logout) and the
    /// verified claims; not the access token, which a restore replaces at once.
    pub fn to_sealed_json(&self) -> Option<String> {
        let rt = self.tokens.refresh_token.as_ref()?;
        let mut o = String::from("{\"claims\":");
        o.push_str(&self.claims_text);
        push_member(&mut o, "rt", rt.as_str());
        if let Some(it) = &self.tokens.id_token {
            push_member(&mut o, "it", it);
        }
        if let Some(k) = &self.dpop_key {
            push_member(&mut o, "dk", k);
        }
        o.push('}');
        Some(o)
    }

    /// A session read back from the seal: refresh token and claims, no usable access token yet.
    pub fn from_sealed_json(text: &str) -> Option<Session> {
        let v = Json::parse_object(text, ErrorCode::SessionEnded).ok()?;
        let (claims, claims_text) = claims_of(&v)?;
        Some(Session {
            tokens: TokenSet {
                access_token: AccessToken::new(""),
                expires_in: None,
                refresh_token: Some(RefreshToken::new(v.str_member("rt")?)),
                id_token: v.str_member("it").map(String::from),
                scope: None,
            },
            claims_text,
            claims,
            expires_at: Some(0.0),
            dpop_key: v.str_member("dk").map(String::from),
        })
    }

    fn from_json(v: &Json) -> Option<Session> {
        let (claims, claims_text) = claims_of(v)?;
        let s = |n: &str| v.str_member(n).map(String::from);
        let expires_at = match v.get("exp") {
            None => None,
            Some(e) => Some(e.as_f64()?),
        };
        Some(Session {
            tokens: TokenSet {
                access_token: AccessToken::new(s("at")?),
                expires_in: None,
                refresh_token: s("rt").map(RefreshToken::new),
                id_token: s("it"),
                scope: s("scope"),
            },
            claims_text,
            claims,
            expires_at,
            dpop_key: s("dk"),
        })
    }
}

/// The `claims` member of a handed-over or sealed session: an object, and its JSON text for the app.
fn claims_of(v: &Json) -> Option<(Json, String)> {
    let claims = v.get("claims")?.clone();
    if !matches!(claims, Json::Obj(_)) {
        return None;
    }
    let text = claims.to_text()?;
    Some((claims, text))
}

/// 2^53: the largest whole number a JSON number (an f64) holds exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

impl Message {
    pub fn session(gen: u64, s: &Session) -> String {
        let mut o = String::from("{\"t\":\"session\",\"gen\":");
        json::write_u64(&mut o, gen);
        o.push_str(",\"s\":");
        o.push_str(&s.to_json());
        o.push('}');
        o
    }

    pub fn ended(gen: u64) -> String {
        let mut o = String::from("{\"t\":\"ended\",\"gen\":");
        json::write_u64(&mut o, gen);
        o.push('}');
        o
    }

    pub const ASK: &'static str = "{\"t\":\"ask\"}";

    /// Reads a message from another tab; anything unreadable is ignored by the caller.
    pub fn parse(text: &str) -> Result<Message> {
        let v = Json::parse_object(text, ErrorCode::InvalidConfig)?;
        let bad = || crate::error::OidcError::new(ErrorCode::InvalidConfig, "unreadable message from another tab");
        // A generation is a whole number that JSON carries exactly (at most 2^53): anything else is not one
        // this SDK wrote, and would not survive being passed on.
        let gen = || {
            v.get("gen")
                .and_then(Json::as_f64)
                .filter(|g| *g >= 0.0 && *g <= MAX_EXACT && (*g as u64) as f64 == *g)
                .map(|g| g as u64)
                .ok_or_else(bad)
        };
        match v.str_member("t") {
            Some("session") => {
                let session = v.get("s").and_then(Session::from_json).ok_or_else(bad)?;
                Ok(Message::Session { gen: gen()?, session })
            }
            Some("ended") => Ok(Message::Ended { gen: gen()? }),
            Some("ask") => Ok(Message::Ask),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let claims_text = r#"{"sub":"alice","aud":["spa"],"exp":1700000300,"name":"A \"q\""}"#.to_string();
        Session {
            tokens: TokenSet {
                access_token: AccessToken::new("AT"),
                expires_in: Some(300.0),
                refresh_token: Some(RefreshToken::new("RT")),
                id_token: Some("a.b.c".into()),
                scope: None,
            },
            claims: Json::parse(&claims_text, ErrorCode::JwtMalformed).ok().unwrap(),
            claims_text,
            expires_at: Some(1_700_000_300.0),
            dpop_key: Some("k-1".into()),
        }
    }

    #[test]
    fn a_session_survives_the_hand_off() {
        let text = Message::session(7, &session());
        let Message::Session { gen, session: s } = Message::parse(&text).ok().unwrap() else { panic!("not a session") };
        assert_eq!(gen, 7);
        assert_eq!(s.tokens.access_token.as_str(), "AT");
        assert_eq!(s.tokens.refresh_token.map(|r| r.as_str().to_string()).as_deref(), Some("RT"));
        assert_eq!(s.tokens.id_token.as_deref(), Some("a.b.c"));
        assert_eq!(s.expires_at, Some(1_700_000_300.0));
        assert_eq!(s.claims_text, r#"{"sub":"alice","aud":["spa"],"exp":1700000300,"name":"A \"q\""}"#);
        assert_eq!(s.claims.str_member("sub"), Some("alice"));
        assert_eq!(s.dpop_key.as_deref(), Some("k-1"), "the tab that takes it over signs with the same key");
    }

    #[test]
    fn a_sealed_session_keeps_no_access_token() {
        let text = session().to_sealed_json().unwrap();
        assert!(!text.contains("\"at\""));
        let s = Session::from_sealed_json(&text).unwrap();
        assert_eq!(s.tokens.refresh_token.as_ref().map(|r| r.as_str()), Some("RT"));
        assert_eq!(s.tokens.access_token.as_str(), "");
        assert_eq!(s.expires_at, Some(0.0), "expired: a restore refreshes at once");
        assert_eq!(s.sub(), Some("alice"));
        assert_eq!(s.dpop_key.as_deref(), Some("k-1"));
        assert!(Session::from_sealed_json(r#"{"claims":{}}"#).is_none(), "no refresh token, nothing to restore");
    }

    #[test]
    fn other_messages() {
        assert!(matches!(Message::parse(&Message::ended(3)), Ok(Message::Ended { gen: 3 })));
        let largest = Message::ended(9_007_199_254_740_992);
        assert!(matches!(Message::parse(&largest), Ok(Message::Ended { gen: 9_007_199_254_740_992 })), "2^53 is exact");
        assert!(matches!(Message::parse(Message::ASK), Ok(Message::Ask)));
        for bad in [
            "",
            "{}",
            r#"{"t":"session","gen":1}"#,
            r#"{"t":"ended"}"#,
            r#"{"t":"x"}"#,
            r#"{"t":"session","gen":1,"s":{"claims":1,"at":"x"}}"#,
            // found by fuzzing: beyond 2^53 the number is rounded, and would not survive a hand-off
            r#"{"t":"ended","gen":366666666666666666}"#,
            r#"{"t":"ended","gen":1.5}"#,
        ] {
            assert!(Message::parse(bad).is_err(), "{bad}");
        }
    }
}
