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
#[derive(Clone)]
pub struct Session {
    pub tokens: TokenSet,
    /// The verified ID-token claims, as JSON text (for the app) and parsed (for later checks).
    pub claims_text: String,
    pub claims: Json,
    /// Unix seconds when the access token expires, if the provider said.
    pub expires_at: Option<f64>,
    /// Unix seconds when the refresh token stops working, if the provider said (`refresh_expires_in`,
    /// `refresh_token_expires_in`; see `token::refresh_lifetime`): the session cannot be extended past it.
    pub refresh_expires_at: Option<f64>,
    /// With DPoP: the id of this session's key pair (a fresh one per login; not a secret).
    pub dpop_key: Option<String>,
    /// Refresh tokens of earlier sessions of the same user that a later login replaced in this browser
    /// (newest last, at most `MAX_RETIRED`): revoked at logout. Not revoked when replaced, because a
    /// provider may keep one grant per browser session (oidc-provider, Keycloak), which the new login shares.
    pub retired: Vec<Retired>,
    /// The own access tokens of `apis` entries, obtained from the refresh token (see `refresh.rs`). They
    /// travel with the session between tabs; they are never sealed (a restore obtains new ones).
    pub api_tokens: Vec<ApiToken>,
}

/// An API's own access token: for the `apis` entry whose normalised url is `api`.
#[derive(Clone)]
pub struct ApiToken {
    pub api: String,
    pub access_token: AccessToken,
    /// Unix seconds when it expires, and its lifetime, if the provider said.
    pub expires_at: Option<f64>,
    pub expires_in: Option<f64>,
}

/// A refresh token a later login replaced, and its DPoP key pair.
#[derive(Clone)]
pub struct Retired {
    pub rt: RefreshToken,
    pub dpop_key: Option<String>,
}

/// How many replaced refresh tokens a session remembers for its logout.
pub const MAX_RETIRED: usize = 4;

fn push_retired(o: &mut String, retired: &[Retired]) {
    if retired.is_empty() {
        return;
    }
    o.push_str(",\"rr\":[");
    for (i, r) in retired.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"rt\":");
        json::write_str(o, r.rt.as_str());
        if let Some(k) = &r.dpop_key {
            push_member(o, "dk", k);
        }
        o.push('}');
    }
    o.push(']');
}

/// An access token with its expiry (`exp`, unix seconds) and lifetime (`ei`, seconds), as a hand-off writes them.
/// `,"<name>":<whole seconds>` when there is a time.
fn push_seconds(o: &mut String, name: &str, v: Option<f64>) {
    if let Some(v) = v {
        o.push(',');
        json::write_str(o, name);
        o.push(':');
        json::write_u64(o, v.max(0.0) as u64);
    }
}

fn push_token(o: &mut String, at: &AccessToken, expires_at: Option<f64>, expires_in: Option<f64>) {
    push_member(o, "at", at.as_str());
    push_seconds(o, "exp", expires_at);
    push_seconds(o, "ei", expires_in);
}

/// What `push_token` wrote; `None` when malformed.
fn token_of(v: &Json) -> Option<(AccessToken, Option<f64>, Option<f64>)> {
    let number = |name: &str| match v.get(name) {
        None => Some(None),
        Some(n) => n.as_f64().filter(|n| *n >= 0.0).map(Some),
    };
    Some((AccessToken::new(v.str_member("at")?), number("exp")?, number("ei")?))
}

/// The API tokens of a handed-over session (`apis`); a malformed entry makes the message unreadable.
fn api_tokens_of(v: &Json) -> Option<Vec<ApiToken>> {
    let Some(list) = v.get("apis") else { return Some(Vec::new()) };
    list.as_array()?
        .iter()
        .map(|t| {
            let (access_token, expires_at, expires_in) = token_of(t)?;
            Some(ApiToken { api: t.str_member("u")?.into(), access_token, expires_at, expires_in })
        })
        .collect()
}

fn retired_of(v: &Json) -> Option<Vec<Retired>> {
    let Some(list) = v.get("rr") else { return Some(Vec::new()) };
    let list = list.as_array()?;
    if list.len() > MAX_RETIRED {
        return None;
    }
    list.iter()
        .map(|r| Some(Retired { rt: RefreshToken::new(r.str_member("rt")?), dpop_key: r.str_member("dk").map(String::from) }))
        .collect()
}

pub enum Message {
    /// Boxed: a session is some hundred bytes, the other messages a number.
    Session { gen: u64, session: Box<Session> },
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

    /// The verified claims travel as their JSON text in a string member (`ct`), byte for byte as they were
    /// verified: a fraction or a large integer survives the hand-off and the seal unchanged.
    fn to_json(&self) -> String {
        let mut o = String::from("{\"ct\":");
        json::write_str(&mut o, &self.claims_text);
        push_token(&mut o, &self.tokens.access_token, self.expires_at, self.tokens.expires_in);
        if let Some(rt) = &self.tokens.refresh_token {
            push_member(&mut o, "rt", rt.as_str());
        }
        if let Some(it) = &self.tokens.id_token {
            push_member(&mut o, "it", it);
        }
        if let Some(s) = &self.tokens.scope {
            push_member(&mut o, "scope", s);
        }
        push_seconds(&mut o, "rx", self.refresh_expires_at);
        if let Some(k) = &self.dpop_key {
            push_member(&mut o, "dk", k);
        }
        push_retired(&mut o, &self.retired);
        if !self.api_tokens.is_empty() {
            o.push_str(",\"apis\":[");
            for (i, t) in self.api_tokens.iter().enumerate() {
                if i > 0 {
                    o.push(',');
                }
                o.push_str("{\"u\":");
                json::write_str(&mut o, &t.api);
                push_token(&mut o, &t.access_token, t.expires_at, t.expires_in);
                o.push('}');
            }
            o.push(']');
        }
        o.push('}');
        o
    }

    /// What a sealed session keeps across reloads: the refresh token, the ID token (for logout), the
    /// verified claims and the tabs' generation it was sealed at (`g`: a seal older than the newest state
    /// is stale); not the access token, which a restore replaces at once.
    pub fn to_sealed_json(&self, generation: u64) -> Option<String> {
        let rt = self.tokens.refresh_token.as_ref()?;
        let mut o = String::from("{\"g\":");
        json::write_u64(&mut o, generation);
        o.push_str(",\"ct\":");
        json::write_str(&mut o, &self.claims_text);
        push_member(&mut o, "rt", rt.as_str());
        if let Some(it) = &self.tokens.id_token {
            push_member(&mut o, "it", it);
        }
        if let Some(k) = &self.dpop_key {
            push_member(&mut o, "dk", k);
        }
        push_retired(&mut o, &self.retired);
        o.push('}');
        Some(o)
    }

    /// A session read back from the seal — refresh token and claims, no usable access token yet — and the
    /// generation it was sealed at (0 when the seal predates generations).
    pub fn from_sealed_json(text: &str) -> Option<(Session, u64)> {
        let v = Json::parse_object(text, ErrorCode::SessionEnded).ok()?;
        let (claims, claims_text) = claims_of(&v)?;
        let generation = match v.get("g") {
            None => 0,
            Some(g) => exact_generation(g)?,
        };
        let session = Session {
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
            refresh_expires_at: None,
            dpop_key: v.str_member("dk").map(String::from),
            retired: retired_of(&v)?,
            api_tokens: Vec::new(),
        };
        Some((session, generation))
    }

    fn from_json(v: &Json) -> Option<Session> {
        let (claims, claims_text) = claims_of(v)?;
        let s = |n: &str| v.str_member(n).map(String::from);
        let (access_token, expires_at, expires_in) = token_of(v)?;
        Some(Session {
            tokens: TokenSet {
                access_token,
                expires_in,
                refresh_token: s("rt").map(RefreshToken::new),
                id_token: s("it"),
                scope: s("scope"),
            },
            claims_text,
            claims,
            expires_at,
            refresh_expires_at: v.get("rx").and_then(Json::as_f64),
            dpop_key: s("dk"),
            retired: retired_of(v)?,
            api_tokens: api_tokens_of(v)?,
        })
    }

    /// The refresh tokens this session holds: its own, then those it replaced.
    pub fn refresh_tokens(&self) -> impl Iterator<Item = (&RefreshToken, Option<&str>)> {
        let own = self.tokens.refresh_token.iter().map(|rt| (rt, self.dpop_key.as_deref()));
        own.chain(self.retired.iter().rev().map(|r| (&r.rt, r.dpop_key.as_deref())))
    }
}

/// The claims of a handed-over or sealed session: the verified text (`ct`) and the object it holds. (A
/// session sealed by an earlier version has them as an object, `claims`, written back as text when it can be.)
fn claims_of(v: &Json) -> Option<(Json, String)> {
    let (claims, text) = match v.str_member("ct") {
        Some(text) => (Json::parse(text, ErrorCode::SessionEnded).ok()?, text.to_string()),
        None => {
            let claims = v.get("claims")?.clone();
            let text = claims.to_text()?;
            (claims, text)
        }
    };
    matches!(claims, Json::Obj(_)).then_some((claims, text))
}

/// 2^53: the largest whole number a JSON number (an f64) holds exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A generation is a whole number that JSON carries exactly (at most 2^53): anything else is not one this
/// SDK wrote, and would not survive being passed on.
fn exact_generation(v: &Json) -> Option<u64> {
    v.as_f64().filter(|g| *g >= 0.0 && *g <= MAX_EXACT && (*g as u64) as f64 == *g).map(|g| g as u64)
}

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
        let gen = || v.get("gen").and_then(exact_generation).ok_or_else(bad);
        match v.str_member("t") {
            Some("session") => {
                let session = v.get("s").and_then(Session::from_json).ok_or_else(bad)?;
                Ok(Message::Session { gen: gen()?, session: Box::new(session) })
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
            refresh_expires_at: Some(1_700_001_800.0),
            dpop_key: Some("k-1".into()),
            retired: vec![Retired { rt: RefreshToken::new("RT-0"), dpop_key: Some("k-0".into()) }],
            api_tokens: vec![ApiToken { api: "https://billing.example/v1".into(), access_token: AccessToken::new("AT-B"), expires_at: Some(1_700_000_600.0), expires_in: Some(600.0) }],
        }
    }

    #[test]
    fn a_session_survives_the_hand_off() {
        let text = Message::session(7, &session());
        let Message::Session { gen, session: s } = Message::parse(&text).ok().unwrap() else { panic!("not a session") };
        assert_eq!(gen, 7);
        assert_eq!(s.tokens.access_token.as_str(), "AT");
        assert_eq!(s.tokens.refresh_token.as_ref().map(|r| r.as_str()), Some("RT"));
        assert_eq!(s.tokens.id_token.as_deref(), Some("a.b.c"));
        assert_eq!(s.expires_at, Some(1_700_000_300.0));
        assert_eq!(s.refresh_expires_at, Some(1_700_001_800.0), "the refresh token's stated end travels too");
        assert_eq!(s.claims_text, r#"{"sub":"alice","aud":["spa"],"exp":1700000300,"name":"A \"q\""}"#);
        assert_eq!(s.claims.str_member("sub"), Some("alice"));
        assert_eq!(s.dpop_key.as_deref(), Some("k-1"), "the tab that takes it over signs with the same key");
        let tokens: Vec<(&str, Option<&str>)> = s.refresh_tokens().map(|(rt, k)| (rt.as_str(), k)).collect();
        assert_eq!(tokens, vec![("RT", Some("k-1")), ("RT-0", Some("k-0"))], "and revokes the replaced ones at logout");
        let api: Vec<(&str, &str, Option<f64>, Option<f64>)> = s.api_tokens.iter().map(|t| (t.api.as_str(), t.access_token.as_str(), t.expires_at, t.expires_in)).collect();
        assert_eq!(api, vec![("https://billing.example/v1", "AT-B", Some(1_700_000_600.0), Some(600.0))], "the APIs' own tokens travel too");
    }

    #[test]
    fn claims_with_fractions_and_large_integers_survive_the_hand_off_and_the_seal() {
        // Found by the many-tab simulation: the claims were written back through `Json::to_text`, which
        // refuses these numbers, so new tabs got no session and a sealed session was wiped at reload.
        let mut s = session();
        s.claims_text = r#"{"sub":"alice","score":0.5,"big":12345678901234567890,"tiny":1e-7,"name":"\u00e9"}"#.to_string();
        s.claims = Json::parse(&s.claims_text, ErrorCode::JwtMalformed).ok().unwrap();
        let Message::Session { session: handed, .. } = Message::parse(&Message::session(1, &s)).ok().unwrap() else { panic!("not a session") };
        assert_eq!(handed.claims_text, s.claims_text, "the verified text, byte for byte");
        assert_eq!(handed.claims.get("score").and_then(Json::as_f64), Some(0.5));
        let (sealed, _) = Session::from_sealed_json(&s.to_sealed_json(3).unwrap()).unwrap();
        assert_eq!(sealed.claims_text, s.claims_text);
        // A session sealed by the previous version (claims as an object) still restores.
        let old = r#"{"claims":{"sub":"alice"},"rt":"RT"}"#;
        assert_eq!(Session::from_sealed_json(old).map(|(s, g)| (s.claims_text, g)), Some((r#"{"sub":"alice"}"#.to_string(), 0)));
        // Claims that are not an object are refused.
        assert!(Session::from_sealed_json(r#"{"ct":"[1]","rt":"RT"}"#).is_none());
        assert!(Session::from_sealed_json(r#"{"ct":"{","rt":"RT"}"#).is_none());
    }

    #[test]
    fn a_sealed_session_keeps_no_access_token() {
        let text = session().to_sealed_json(7).unwrap();
        assert!(!text.contains("\"at\"") && !text.contains("AT-B"), "neither the login's nor an API's access token");
        let (s, generation) = Session::from_sealed_json(&text).unwrap();
        assert_eq!(generation, 7, "the generation it was sealed at");
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
            r#"{"t":"session","gen":1,"s":{"ct":"1","at":"x"}}"#,
            // found by fuzzing: beyond 2^53 the number is rounded, and would not survive a hand-off
            r#"{"t":"ended","gen":366666666666666666}"#,
            r#"{"t":"ended","gen":1.5}"#,
            r#"{"t":"session","gen":1,"s":{"ct":"{}","at":"x","apis":[{"u":"https://b.example"}]}}"#,
            r#"{"t":"session","gen":1,"s":{"ct":"{}","at":"x","apis":[{"u":"https://b.example","at":"y","exp":-1}]}}"#,
        ] {
            assert!(Message::parse(bad).is_err(), "{bad}");
        }
    }
}
