//! The simulated OpenID Provider and APIs of the many-tab simulation.
//!
//! It behaves like the providers people run (oidc-provider, Keycloak): one provider session per browser,
//! and logins in that browser reuse its grant while the session lives; refresh-token rotation with reuse
//! detection (presenting a spent refresh token revokes the whole grant, RFC 9700 §4.14.2); revocation of a
//! refresh token revokes its grant (RFC 7009 §2.1, as oidc-provider does); DPoP-bound tokens (RFC 9449)
//! when the client sends proofs. The API accepts an access token that is live, unexpired and, when bound,
//! presented with a proof from its key.
//!
//! Besides answering, it records what no correct client may make it see: a spent refresh token presented
//! again (unless the answer that spent it never reached the client), a revoked one presented after the
//! logout that revoked it, a DPoP proof from another key than the token's, a token for one API sent to another.

use std::collections::HashMap;

use crate::b64url;
use crate::test_support::{fake_sign, id_token, jwks_json};
use crate::url::{parse_query, query_of};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "https://op.example";
pub const CLIENT_ID: &str = "spa";
pub const API: &str = "https://api.example/orders";
pub const BILLING: &str = "https://billing.example/v1/invoices";
pub const REPORTS: &str = "https://reports.example/monthly";
/// The audiences (RFC 8707 resource indicators) of the three APIs' tokens.
pub const API_AUD: &str = "https://api.example";
pub const BILLING_AUD: &str = "https://billing.example";
pub const REPORTS_AUD: &str = "https://reports.example";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RtState {
    Active,
    /// Spent by a rotation.
    Used,
    Revoked,
}

pub struct Rt {
    pub grant: usize,
    /// The code exchange this refresh token descends from by rotation.
    pub chain: u64,
    pub state: RtState,
    /// Its rotation was processed but the answer never reached the client (lost, garbled, or the page
    /// went away): the client cannot know it is spent, so presenting it again is not a client bug.
    pub answer_lost: bool,
    pub jkt: Option<String>,
    /// The resources granted at authorization (RFC 8707 §2.1), kept through rotations.
    pub resources: Vec<String>,
}

pub struct Grant {
    pub alive: bool,
    pub created_at: f64,
    /// A revocation of this grant was sent and may not have arrived.
    pub revocation_failed: bool,
    /// When a logout's revocation killed it (simulated time); `None` if it died otherwise.
    pub revoked_by_logout_at: Option<f64>,
    /// An answer carrying one of its refresh tokens never reached the client: a live token no one holds.
    pub orphaned: bool,
    /// Revoked by a login that yielded to a logout (its tokens were revoked): where the provider keeps one
    /// grant per browser session, that kills a login completing at the same moment, which no tab can know.
    pub killed_by_discard: bool,
    /// When a refresh token of this grant first reached the client.
    pub delivered_at: Option<f64>,
}

struct Code {
    challenge: String,
    nonce: String,
    redirect_uri: String,
    grant: usize,
    used: bool,
    jkt: Option<String>,
    resources: Vec<String>,
}

struct At {
    grant: usize,
    expires_at: f64,
    jkt: Option<String>,
    /// The API it is for.
    aud: String,
}

pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub body: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub dpop: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
    pub www_authenticate: Option<String>,
    /// For the fault injector: the refresh token this answer carries (a rotation), and the one it spent.
    pub issued_rt: Option<String>,
    pub spent_rt: Option<String>,
    /// The grant a revocation asked to end.
    pub revoked_grant: Option<usize>,
    /// `Retry-After`, on a 429.
    pub retry_after: Option<String>,
}

impl Response {
    fn new(status: u16, body: impl Into<String>) -> Response {
        Response { status, body: body.into(), www_authenticate: None, issued_rt: None, spent_rt: None, revoked_grant: None, retry_after: None }
    }
    fn oauth_error(error: &str) -> Response {
        Response::new(400, format!(r#"{{"error":"{error}"}}"#))
    }
}

pub struct Provider {
    pub now: f64,
    pub access_ttl: f64,
    pub rotation: bool,
    /// Billing's resource is not granted (as if the user or a policy left it out): `invalid_target`.
    pub deny_billing: bool,
    pub grants: Vec<Grant>,
    pub rts: HashMap<String, Rt>,
    ats: HashMap<String, At>,
    codes: HashMap<String, Code>,
    /// The browser's session at the provider: its grant, while it lives.
    op_session: Option<usize>,
    counter: u64,
    /// What a correct client never makes the provider see.
    pub violations: Vec<String>,
    /// Refresh tokens presented, in order (for the trace of a failing seed).
    pub presented: Vec<String>,
    pub api_calls_ok: u64,
    /// Of those, the calls to billing and to reports (each with its own token).
    pub own_token_calls_ok: u64,
    /// Token requests refused with `invalid_target` (billing's resource not granted).
    pub invalid_targets: u64,
}

/// The public JWK the simulated browser gives for the DPoP key pair `name`: its `x` is the name.
pub fn dpop_jwk_of(name: &str) -> String {
    format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"AA","ext":true}}"#, b64url::encode(name.as_bytes()))
}

/// The simulated signature of the DPoP key pair `name` (64 bytes, as ES256's R‖S).
pub fn dpop_signature(name: &str, data: &[u8]) -> Vec<u8> {
    fake_sign(&format!("dpop:{name}"), data).repeat(2)
}

impl Provider {
    pub fn new(access_ttl: f64, rotation: bool, deny_billing: bool) -> Provider {
        Provider {
            now: 0.0,
            access_ttl,
            rotation,
            deny_billing,
            grants: Vec::new(),
            rts: HashMap::new(),
            ats: HashMap::new(),
            codes: HashMap::new(),
            op_session: None,
            counter: 0,
            violations: Vec::new(),
            presented: Vec::new(),
            api_calls_ok: 0,
            own_token_calls_ok: 0,
            invalid_targets: 0,
        }
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}-{}", self.counter)
    }

    pub fn discovery(dpop: bool) -> String {
        let dpop_algs = if dpop { r#","dpop_signing_alg_values_supported":["ES256"]"# } else { "" };
        format!(
            r#"{{"issuer":"{ISSUER}","authorization_endpoint":"{ISSUER}/authorize","token_endpoint":"{ISSUER}/token","jwks_uri":"{ISSUER}/jwks","revocation_endpoint":"{ISSUER}/revoke","end_session_endpoint":"{ISSUER}/logout","response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],"code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true{dpop_algs}}}"#
        )
    }

    /// The user signs in at the authorization endpoint: a code for the browser's grant (a new grant when
    /// the provider session has none alive). Returns the redirect back to the app.
    pub fn authorize(&mut self, authorization_url: &str) -> Option<String> {
        // `resource` may repeat (RFC 8707 §2.1), which `parse_query` refuses.
        let q: Vec<(String, String)> =
            query_of(authorization_url).split('&').filter_map(|p| p.split_once('=')).filter_map(|(k, v)| Some((k.to_string(), crate::url::decode_component(v)?))).collect();
        let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let deny = self.deny_billing;
        let resources: Vec<String> = q.iter().filter(|(k, v)| k == "resource" && !(deny && v == BILLING_AUD)).map(|(_, v)| v.clone()).collect();
        let grant = match self.op_session {
            Some(g) if self.grants[g].alive => g,
            _ => {
                self.grants.push(Grant { alive: true, created_at: self.now, revocation_failed: false, revoked_by_logout_at: None, orphaned: false, delivered_at: None, killed_by_discard: false });
                let g = self.grants.len() - 1;
                self.op_session = Some(g);
                g
            }
        };
        let code = self.fresh("C");
        let redirect_uri = get("redirect_uri")?;
        self.codes.insert(
            code.clone(),
            Code { challenge: get("code_challenge")?, nonce: get("nonce")?, redirect_uri: redirect_uri.clone(), grant, used: false, jkt: get("dpop_jkt"), resources },
        );
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        Some(format!("{redirect_uri}{sep}code={code}&state={}&iss=https%3A%2F%2Fop.example", get("state")?))
    }

    /// The browser visits the end-session endpoint: the provider session ends.
    pub fn end_session(&mut self) {
        self.op_session = None;
    }

    pub fn handle(&mut self, r: &Request) -> Response {
        match (r.method, r.url) {
            ("GET", u) if u == format!("{ISSUER}/.well-known/openid-configuration") => Response::new(200, Provider::discovery(r.dpop.is_some())),
            ("GET", u) if u == format!("{ISSUER}/jwks") => Response::new(200, jwks_json(&["k1"])),
            ("POST", u) if u == format!("{ISSUER}/token") => self.token(r),
            ("POST", u) if u == format!("{ISSUER}/revoke") => self.revoke(r),
            ("GET", API) => self.api(r, API_AUD),
            ("GET", BILLING) => self.api(r, BILLING_AUD),
            ("GET", REPORTS) => self.api(r, REPORTS_AUD),
            _ => Response::new(404, ""),
        }
    }

    /// The key a DPoP proof was made with, when its signature holds (RFC 9449 §4.3, simulated).
    fn proof_key(proof: &str) -> Option<(String, String)> {
        let mut parts = proof.split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        let header = crate::json::Json::parse(&String::from_utf8(b64url::decode(h)?).ok()?, crate::error::ErrorCode::JwtMalformed).ok()?;
        let x = header.get("jwk")?.str_member("x")?.to_string();
        let name = String::from_utf8(b64url::decode(&x)?).ok()?;
        if b64url::decode(s)? != dpop_signature(&name, format!("{h}.{c}").as_bytes()) {
            return None;
        }
        let canonical = crate::dpop::canonical_public_jwk(&dpop_jwk_of(&name)).ok()?;
        Some((name, b64url::encode(&Sha256::digest(canonical.as_bytes()))))
    }

    /// `aud`: the API the access token is for; `id_token`: whether the scope asked for includes `openid`.
    #[allow(clippy::too_many_arguments)]
    fn issue(&mut self, grant: usize, chain: u64, nonce: Option<&str>, jkt: Option<String>, keep_rt: Option<String>, resources: Vec<String>, aud: String, with_id_token: bool) -> (String, String) {
        let at = self.fresh(if aud == API_AUD { "AT" } else if aud == BILLING_AUD { "ATB" } else { "ATR" });
        self.ats.insert(at.clone(), At { grant, expires_at: self.now + self.access_ttl, jkt: jkt.clone(), aud });
        let rt = match keep_rt {
            Some(rt) => rt,
            None => {
                let rt = self.fresh("RT");
                self.rts.insert(rt.clone(), Rt { grant, chain, state: RtState::Active, answer_lost: false, jkt: jkt.clone(), resources });
                rt
            }
        };
        let nonce = nonce.map(|n| format!(r#","nonce":"{n}""#)).unwrap_or_default();
        // A fractional claim and an integer above 2^53: verified claims must travel between tabs and
        // through the seal exactly as they came.
        let claims = format!(
            r#"{{"iss":"{ISSUER}","aud":"{CLIENT_ID}","sub":"alice","exp":{},"iat":{},"auth_time":{}{nonce},"score":0.5,"big":12345678901234567890}}"#,
            self.now as u64 + 3600,
            self.now as u64,
            self.grants[grant].created_at as u64,
        );
        let token_type = if jkt.is_some() { "DPoP" } else { "Bearer" };
        let id = if with_id_token { format!(r#","id_token":"{}""#, id_token("k1", &claims)) } else { String::new() };
        let body = format!(r#"{{"access_token":"{at}","token_type":"{token_type}","expires_in":{},"refresh_token":"{rt}"{id}}}"#, self.access_ttl as u64);
        (body, rt)
    }

    /// The API a token request's access token is for (RFC 8707 §2.2), or `invalid_target` / `invalid_scope`.
    fn audience(resource: Option<String>, scope: Option<String>, granted: &[String]) -> Result<String, Response> {
        match (resource, scope.as_deref()) {
            (Some(r), _) if granted.contains(&r) => Ok(r),
            (Some(_), _) => Err(Response::oauth_error("invalid_target")),
            (None, Some("reports:read")) => Ok(REPORTS_AUD.into()),
            (None, Some(_)) => Err(Response::oauth_error("invalid_scope")),
            (None, None) => match granted {
                [] => Ok(API_AUD.into()),
                [only] => Ok(only.clone()),
                _ => Err(Response::oauth_error("invalid_target")), // which one? (oidc-provider refuses too)
            },
        }
    }

    fn token(&mut self, r: &Request) -> Response {
        let Some(form) = r.body.and_then(parse_query) else { return Response::oauth_error("invalid_request") };
        let get = |n: &str| form.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let proof = match r.dpop {
            Some(p) => match Provider::proof_key(p) {
                Some(k) => Some(k),
                None => return Response::oauth_error("invalid_dpop_proof"),
            },
            None => None,
        };
        let jkt = proof.map(|(_, jkt)| jkt);
        match get("grant_type").as_deref() {
            Some("authorization_code") => {
                let (Some(code), Some(verifier)) = (get("code"), get("code_verifier")) else { return Response::oauth_error("invalid_request") };
                let Some(c) = self.codes.get_mut(&code) else { return Response::oauth_error("invalid_grant") };
                let challenge = b64url::encode(&Sha256::digest(verifier.as_bytes()));
                if c.used || challenge != c.challenge || get("redirect_uri").as_deref() != Some(c.redirect_uri.as_str()) {
                    return Response::oauth_error("invalid_grant");
                }
                if c.jkt.is_some() && c.jkt != jkt {
                    return Response::oauth_error("invalid_grant"); // the code is bound to another key (RFC 9449 §10)
                }
                c.used = true;
                let (grant, nonce, resources) = (c.grant, c.nonce.clone(), c.resources.clone());
                if !self.grants[grant].alive {
                    return Response::oauth_error("invalid_grant");
                }
                let aud = match Provider::audience(get("resource"), get("scope"), &resources) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                let chain = self.counter;
                let (body, rt) = self.issue(grant, chain, Some(&nonce), jkt, None, resources, aud, true);
                let mut res = Response::new(200, body);
                res.issued_rt = Some(rt);
                res
            }
            Some("refresh_token") => {
                let Some(presented) = get("refresh_token") else { return Response::oauth_error("invalid_request") };
                self.presented.push(presented.clone());
                let Some(rt) = self.rts.get(&presented) else { return Response::oauth_error("invalid_grant") };
                let (grant, chain, state, lost, bound, resources) = (rt.grant, rt.chain, rt.state, rt.answer_lost, rt.jkt.clone(), rt.resources.clone());
                match state {
                    RtState::Used => {
                        if !lost {
                            self.violations.push(format!("the spent refresh token {presented} was presented again"));
                        } else {
                            // The client could not know: the tabs hold a dead session until their next refresh.
                            self.grants[grant].orphaned = true;
                        }
                        self.kill_grant(grant); // reuse detection: the whole family goes
                        return Response::oauth_error("invalid_grant");
                    }
                    RtState::Revoked => {
                        if let Some(at) = self.grants[grant].revoked_by_logout_at {
                            if !lost && !self.grants[grant].revocation_failed && !self.grants[grant].killed_by_discard {
                                self.violations.push(format!("{presented}, revoked by the logout at t={at}, was presented after it"));
                            }
                        }
                        return Response::oauth_error("invalid_grant");
                    }
                    RtState::Active => {}
                }
                if bound.is_some() && bound != jkt {
                    self.violations.push(format!("{presented} was presented with a proof from another DPoP key"));
                    return Response::oauth_error("invalid_grant");
                }
                if !self.grants[grant].alive {
                    return Response::oauth_error("invalid_grant");
                }
                // Checked before the rotation: a refused request spends nothing (RFC 6749 §5.2).
                let with_id_token = get("scope").is_none();
                let aud = match Provider::audience(get("resource"), get("scope"), &resources) {
                    Ok(a) => a,
                    Err(e) => {
                        self.invalid_targets += u64::from(e.body.contains("invalid_target"));
                        return e;
                    }
                };
                let keep = if self.rotation { None } else { Some(presented.clone()) };
                if self.rotation {
                    if let Some(rt) = self.rts.get_mut(&presented) {
                        rt.state = RtState::Used;
                    }
                }
                let (body, rt) = self.issue(grant, chain, None, jkt, keep, resources, aud, with_id_token);
                let mut res = Response::new(200, body);
                res.issued_rt = Some(rt);
                res.spent_rt = Some(presented);
                res
            }
            _ => Response::oauth_error("unsupported_grant_type"),
        }
    }

    fn kill_grant(&mut self, grant: usize) {
        self.grants[grant].alive = false;
        for rt in self.rts.values_mut().filter(|rt| rt.grant == grant) {
            if rt.state == RtState::Active {
                rt.state = RtState::Revoked;
            }
        }
    }

    /// RFC 7009: always 200; a known refresh token revokes its grant.
    fn revoke(&mut self, r: &Request) -> Response {
        let form = r.body.and_then(parse_query).unwrap_or_default();
        let token = form.iter().find(|(k, _)| k == "token").map(|(_, v)| v.clone()).unwrap_or_default();
        let mut res = Response::new(200, "");
        if let Some(g) = self.rts.get(&token).map(|rt| rt.grant) {
            if self.grants[g].alive {
                self.kill_grant(g);
                self.grants[g].revoked_by_logout_at = Some(self.now);
            }
            res.revoked_grant = Some(g);
        }
        res
    }

    /// The API whose tokens are for `aud`.
    fn api(&mut self, r: &Request, aud: &str) -> Response {
        let unauthorized = || {
            let mut res = Response::new(401, "");
            res.www_authenticate = Some(r#"Bearer error="invalid_token""#.into());
            res
        };
        let Some((scheme, token)) = r.authorization.and_then(|a| a.split_once(' ')) else { return unauthorized() };
        let Some(at) = self.ats.get(token) else { return unauthorized() };
        if at.jkt.is_some() {
            let key = r.dpop.and_then(Provider::proof_key);
            if scheme != "DPoP" || key.as_ref().map(|(_, jkt)| jkt) != at.jkt.as_ref() {
                let used = key.map_or("no proof".to_string(), |(name, _)| format!("a proof from the key {name}"));
                self.violations.push(format!("{token} was sent as {scheme} with {used}, not from the key it is bound to"));
                return unauthorized();
            }
        }
        if at.aud != aud {
            self.violations.push(format!("{token}, a token for {}, was sent to {aud}", at.aud));
            return unauthorized();
        }
        if at.expires_at <= self.now || !self.grants[at.grant].alive {
            return unauthorized();
        }
        self.api_calls_ok += 1;
        self.own_token_calls_ok += u64::from(aud != API_AUD);
        Response::new(200, "[]")
    }
}
