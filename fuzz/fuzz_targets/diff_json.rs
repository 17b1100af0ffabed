//! Differential: `oidc_wasm::json::Json::parse` against serde_json, which reads the same input into
//! `Node` below (serde_json's `arbitrary_precision` feature hands every number over as its literal,
//! which this target rounds with Rust's correctly rounding `f64::from_str`).
//!
//! Property: both readers accept the same documents and read the same value: null, booleans and strings
//! equal, arrays equal item by item, objects equal member by member in document order, numbers equal as
//! f64 (as far as json.rs promises, see below). A document json.rs accepts and serde_json refuses is
//! always a bug. A document serde_json accepts and json.rs refuses must break one of json.rs's
//! documented stricter rules, each checked here on serde_json's reading of the document:
//!
//! 1. Repeated member name in one object, compared after unescaping. json.rs module doc: "it rejects
//!    duplicate member names (RFC 7519 §4, RFC 7515 §4)"; the sort-and-compare check at the end of
//!    `Parser::object`. serde_json accepts them (its `Value` keeps the last). json.rs must refuse these.
//! 2. Nesting deeper than `MAX_DEPTH` = 32: a value more than 32 arrays/objects deep (the document
//!    itself is depth 0; the check at the top of `Parser::value`). Module doc: "Limits keep it panic-free
//!    and bounded: nesting depth". serde_json's own limit is 128. json.rs must refuse these.
//! 3. A number at the edge of f64 or beyond it. `Parser::number` refuses a result that is not finite
//!    ("RFC 8259 §9 lets a parser limit the range: a number beyond f64 (1e400, 400 digits) is refused").
//!    It accumulates all the digits (integer and fraction part) into one f64 before scaling, so the
//!    integer those digits spell counts too, whatever the exponent (the unit test `numbers_are_finite`
//!    refuses 400 ones followed by `e-400`). Allowed when that digit integer or the number's value is
//!    beyond f64::MAX or within the rounding tolerance below of it. json.rs may refuse these, not must.
//!
//! Numbers where both accept: module doc "Numbers are kept as f64 computed digit by digit: exact for
//! every integer below 2^53 [...]; no float-parsing tables are linked". So a plain integer literal (no
//! fraction, no exponent) of magnitude at most 2^53 must read bit for bit as Rust reads it (the sign of
//! -0 included). Any other number is correct to a relative 1e-12: the digit-by-digit error is at most
//! one rounding per digit (an accumulator beyond ~310 significant digits overflows and is refused) plus
//! ~20 in the power of ten, < 4e-14. Below the normal range an absolute 1e-322 (20 subnormal steps) is
//! allowed instead, and a literal that rounds to infinity may read as a finite number within the
//! tolerance of f64::MAX. The sign always agrees.
//!
//! Harness note: with `arbitrary_precision`, serde_json passes a number that is not a plain 64-bit
//! integer to a visitor as a one-member map named `$serde_json::private::Number` whose value is an owned
//! `String`. A document's own member of that name arrives with a borrowed (or `visit_str`) string, which
//! is how `Node` tells the two apart (serde_json's own `Value` would misread such an object as a number).
#![no_main]

use std::collections::HashSet;
use std::fmt;

use libfuzzer_sys::fuzz_target;
use oidc_wasm::error::ErrorCode;
use oidc_wasm::json::Json;
use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

/// json.rs's `MAX_DEPTH`.
const MAX_DEPTH: usize = 32;
/// Relative tolerance for numbers other than plain integers up to 2^53.
const TOL: f64 = 1e-12;
/// Absolute tolerance below the normal range (about 20 times the smallest subnormal).
const TINY: f64 = 1e-322;
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// serde_json's reading of a document, member order and repeated names kept.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    /// A number as its literal (serde_json spells the exponent `e+`/`e-`).
    Num(String),
    Str(String),
    /// Only from `visit_string`: serde_json calls it for a number's literal, never for a document string.
    NumberLiteral(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E: Error>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }
    // Plain integers that fit 64 bits: their decimal spelling is exactly the document's literal.
    fn visit_u64<E: Error>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Num(n.to_string()))
    }
    fn visit_i64<E: Error>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Num(n.to_string()))
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<Node, E> {
        panic!("harness: serde_json built without arbitrary_precision");
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Node, E> {
        Ok(Node::Str(s.to_owned()))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Node, E> {
        Ok(Node::Str(s.to_owned()))
    }
    fn visit_string<E: Error>(self, s: String) -> Result<Node, E> {
        Ok(Node::NumberLiteral(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut members = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            match map.next_value::<Node>()? {
                Node::NumberLiteral(lit) => {
                    assert!(members.is_empty() && name == NUMBER_TOKEN, "harness: owned string outside a number");
                    return Ok(Node::Num(lit));
                }
                value => members.push((name, value)),
            }
        }
        Ok(Node::Obj(members))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Rule 1: some object has a member name twice.
fn repeats_a_name(n: &Node) -> bool {
    match n {
        Node::Arr(items) => items.iter().any(repeats_a_name),
        Node::Obj(members) => {
            let mut seen = HashSet::new();
            members.iter().any(|(k, _)| !seen.insert(k.as_str())) || members.iter().any(|(_, v)| repeats_a_name(v))
        }
        _ => false,
    }
}

/// Rule 2: the depth of the most deeply nested value (the document is depth 0).
fn depth(n: &Node) -> usize {
    match n {
        Node::Arr(items) => items.iter().map(|v| 1 + depth(v)).max().unwrap_or(0),
        Node::Obj(members) => members.iter().map(|(_, v)| 1 + depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

fn parse_f64(lit: &str) -> f64 {
    lit.parse().unwrap_or_else(|_| panic!("harness: serde_json passed {lit:?} as a number"))
}

/// Rule 3: the integer spelt by all the digits before the exponent, or the value, is at f64's edge or
/// beyond it.
fn at_f64_edge(lit: &str) -> bool {
    let before_exponent = lit.split(['e', 'E']).next().unwrap_or("");
    let digits: String = before_exponent.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return false; // zero, whatever its exponent
    }
    let edge = f64::MAX * (1.0 - TOL);
    parse_f64(digits) >= edge || parse_f64(lit).abs() >= edge
}

fn any_number(n: &Node, rule: &dyn Fn(&str) -> bool) -> bool {
    match n {
        Node::Num(lit) => rule(lit),
        Node::Arr(items) => items.iter().any(|v| any_number(v, rule)),
        Node::Obj(members) => members.iter().any(|(_, v)| any_number(v, rule)),
        _ => false,
    }
}

fn same_number(got: f64, lit: &str, at: &str, text: &str) {
    let want = parse_f64(lit);
    assert!(got.is_finite(), "{at}: json.rs read {lit} as {got} in {text:?}");
    assert_eq!(got.is_sign_negative(), want.is_sign_negative(), "{at}: sign of {lit}: {got} vs {want} in {text:?}");
    let plain_small = !lit.contains(['.', 'e', 'E']) && lit.parse::<i128>().is_ok_and(|n| n.unsigned_abs() <= 1 << 53);
    let ok = if plain_small {
        got.to_bits() == want.to_bits()
    } else if want.is_infinite() {
        got.abs() >= f64::MAX * (1.0 - TOL)
    } else {
        (got - want).abs() <= TOL * got.abs().max(want.abs()) || (got - want).abs() <= TINY
    };
    assert!(ok, "{at}: json.rs read {lit} as {got:e}, correctly rounded it is {want:e}, in {text:?}");
}

fn same(j: &Json, n: &Node, at: &str, text: &str) {
    match (j, n) {
        (Json::Null, Node::Null) => {}
        (Json::Bool(a), Node::Bool(b)) if a == b => {}
        (Json::Str(a), Node::Str(b)) if a == b => {}
        (Json::Num(got), Node::Num(lit)) => same_number(*got, lit, at, text),
        (Json::Arr(a), Node::Arr(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(x, y, &format!("{at}[{i}]"), text);
            }
        }
        (Json::Obj(a), Node::Obj(b)) if a.len() == b.len() => {
            for ((ka, x), (kb, y)) in a.iter().zip(b) {
                assert_eq!(ka, kb, "{at}: member names differ in {text:?}");
                same(x, y, &format!("{at}.{ka:?}"), text);
            }
        }
        _ => panic!("{at}: json.rs read {j:?}, serde_json {n:?}, in {text:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ours = Json::parse(text, ErrorCode::JwtMalformed);
    let theirs = serde_json::from_str::<Node>(text);
    match (ours, theirs) {
        (Ok(j), Ok(n)) => {
            assert!(!repeats_a_name(&n), "json.rs accepted a repeated member name in {text:?}");
            assert!(depth(&n) <= MAX_DEPTH, "json.rs accepted nesting deeper than {MAX_DEPTH} in {text:?}");
            same(&j, &n, "$", text);
        }
        (Ok(j), Err(e)) => panic!("json.rs accepts what serde_json refuses ({e}): {text:?} read as {j:?}"),
        (Err(_), Ok(n)) => assert!(
            repeats_a_name(&n) || depth(&n) > MAX_DEPTH || any_number(&n, &at_f64_edge),
            "json.rs refuses what serde_json accepts, and no documented rule explains it: {text:?} ({n:?})"
        ),
        (Err(_), Err(_)) => {}
    }
});
