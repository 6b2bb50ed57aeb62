//! The `Condition` element: IAM's condition operators as AWS IoT policies use them.
//!
//! Supported: `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`,
//! `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`, `NumericEquals`,
//! `NumericNotEquals`, `NumericLessThan`, `NumericLessThanEquals`, `NumericGreaterThan`,
//! `NumericGreaterThanEquals`, `DateEquals`, `DateNotEquals`, `DateLessThan`,
//! `DateLessThanEquals`, `DateGreaterThan`, `DateGreaterThanEquals`, `Bool`,
//! `IpAddress`, `NotIpAddress`, `ArnEquals`, `ArnNotEquals`, `ArnLike`, `ArnNotLike`,
//! `Null`; each (but `Null`) with the `...IfExists` suffix and the `ForAllValues:` /
//! `ForAnyValue:` set qualifiers. `BinaryEquals` (no AWS IoT key holds binary data) and
//! anything else are refused when the policy is parsed.
//!
//! IAM's logic: operators AND together, keys within an operator AND together, values
//! for one key OR together (NOR for the negated operators). A key absent from the
//! context makes a positive operator false and a negated one true; `...IfExists` makes
//! an absent key true; `ForAllValues` is true for an absent (or empty) key,
//! `ForAnyValue` false.

use std::net::IpAddr;

use serde_json::Value;

use super::keys::ContextKey;
use super::pattern::{arn_like, glob_toks, push_tok, Pattern, Piece, Tok};
use super::PolicyError;
use crate::Timestamp;

/// A base operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BaseOp {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnNotEquals,
    ArnLike,
    ArnNotLike,
    Null,
}

const BASE_OPS: [(&str, BaseOp); 26] = [
    ("StringEquals", BaseOp::StringEquals),
    ("StringNotEquals", BaseOp::StringNotEquals),
    ("StringEqualsIgnoreCase", BaseOp::StringEqualsIgnoreCase),
    (
        "StringNotEqualsIgnoreCase",
        BaseOp::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOp::StringLike),
    ("StringNotLike", BaseOp::StringNotLike),
    ("NumericEquals", BaseOp::NumericEquals),
    ("NumericNotEquals", BaseOp::NumericNotEquals),
    ("NumericLessThan", BaseOp::NumericLessThan),
    ("NumericLessThanEquals", BaseOp::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOp::NumericGreaterThan),
    ("NumericGreaterThanEquals", BaseOp::NumericGreaterThanEquals),
    ("DateEquals", BaseOp::DateEquals),
    ("DateNotEquals", BaseOp::DateNotEquals),
    ("DateLessThan", BaseOp::DateLessThan),
    ("DateLessThanEquals", BaseOp::DateLessThanEquals),
    ("DateGreaterThan", BaseOp::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOp::DateGreaterThanEquals),
    ("Bool", BaseOp::Bool),
    ("IpAddress", BaseOp::IpAddress),
    ("NotIpAddress", BaseOp::NotIpAddress),
    ("ArnEquals", BaseOp::ArnEquals),
    ("ArnNotEquals", BaseOp::ArnNotEquals),
    ("ArnLike", BaseOp::ArnLike),
    ("ArnNotLike", BaseOp::ArnNotLike),
    ("Null", BaseOp::Null),
];

impl BaseOp {
    /// For a negated operator, its positive counterpart.
    fn positive(self) -> Option<BaseOp> {
        Some(match self {
            Self::StringNotEquals => Self::StringEquals,
            Self::StringNotEqualsIgnoreCase => Self::StringEqualsIgnoreCase,
            Self::StringNotLike => Self::StringLike,
            Self::NumericNotEquals => Self::NumericEquals,
            Self::DateNotEquals => Self::DateEquals,
            Self::NotIpAddress => Self::IpAddress,
            Self::ArnNotEquals => Self::ArnEquals,
            Self::ArnNotLike => Self::ArnLike,
            _ => return None,
        })
    }
}

/// A set qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Qualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// A full operator: qualifier, base, `IfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) base: BaseOp,
    pub(crate) qualifier: Qualifier,
    pub(crate) if_exists: bool,
}

impl Operator {
    /// Parses an operator name (ASCII case ignored).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let mut rest = name;
        let mut qualifier = Qualifier::None;
        for (prefix, q) in [
            ("ForAllValues:", Qualifier::ForAllValues),
            ("ForAnyValue:", Qualifier::ForAnyValue),
        ] {
            let head = rest.get(..prefix.len());
            if head.is_some_and(|h| h.eq_ignore_ascii_case(prefix)) {
                rest = &rest[prefix.len()..];
                qualifier = q;
                break;
            }
        }
        let mut if_exists = false;
        const SUFFIX: &str = "IfExists";
        if rest.len() > SUFFIX.len()
            && rest.is_char_boundary(rest.len() - SUFFIX.len())
            && rest[rest.len() - SUFFIX.len()..].eq_ignore_ascii_case(SUFFIX)
        {
            rest = &rest[..rest.len() - SUFFIX.len()];
            if_exists = true;
        }
        let base = BASE_OPS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(rest))
            .map(|(_, b)| *b)?;
        if base == BaseOp::Null && (if_exists || qualifier != Qualifier::None) {
            return None;
        }
        Some(Self {
            base,
            qualifier,
            if_exists,
        })
    }
}

/// One key of one operator of a statement's `Condition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Condition {
    pub(crate) op: Operator,
    pub(crate) key: ContextKey,
    /// The policy's values (patterns: they may hold variables and, for the `Like`
    /// operators, wildcards).
    pub(crate) values: Vec<Pattern>,
}

/// A policy value after its variables were resolved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ResolvedValue {
    /// The value as text (a `*` or `?` stands for itself).
    pub(crate) text: String,
    /// The value as a pattern (for `StringLike` and the `Arn` operators).
    pub(crate) toks: Vec<Tok>,
    /// False when a variable in it has no value: it then matches nothing.
    pub(crate) resolved: bool,
    /// The text read as each operator type reads it, once.
    number: Option<f64>,
    date: Option<i64>,
    cidr: Option<(IpAddr, u8)>,
    boolean: Option<bool>,
}

impl ResolvedValue {
    pub(crate) fn from_toks(toks: Option<Vec<Tok>>) -> Self {
        match toks {
            Some(toks) => {
                let text: String = toks
                    .iter()
                    .map(|t| match t {
                        Tok::Lit(s) => s.as_str(),
                        Tok::Star => "*",
                        Tok::Any => "?",
                    })
                    .collect();
                Self {
                    number: parse_number(&text),
                    date: parse_date(&text),
                    cidr: parse_cidr(&text),
                    boolean: parse_bool(&text),
                    text,
                    toks,
                    resolved: true,
                }
            }
            None => Self {
                text: String::new(),
                toks: Vec::new(),
                resolved: false,
                number: None,
                date: None,
                cidr: None,
                boolean: None,
            },
        }
    }
}

/// Parses a statement's `Condition` object.
pub(crate) fn parse_conditions(value: &Value, at: &str) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = value else {
        return Err(PolicyError::InvalidValue {
            at: at.into(),
            message: "Condition must be an object of operators".into(),
        });
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let at_op = format!("{at}.{op_name}");
        let op = Operator::parse(op_name).ok_or_else(|| PolicyError::UnknownOperator {
            at: at.into(),
            operator: op_name.clone(),
        })?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError::InvalidValue {
                at: at_op,
                message: "a condition operator takes an object of context keys to values".into(),
            });
        };
        if keys.is_empty() {
            return Err(PolicyError::InvalidValue {
                at: at_op,
                message: "a condition operator needs at least one context key".into(),
            });
        }
        for (key_name, raw) in keys {
            let at_key = format!("{at_op}.{key_name}");
            if key_name.is_empty()
                || key_name
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(PolicyError::InvalidValue {
                    at: at_key,
                    message: "a context key has no white space and is not empty".into(),
                });
            }
            let texts = scalar_list(raw).ok_or_else(|| PolicyError::InvalidValue {
                at: at_key.clone(),
                message: "condition values are strings, numbers or booleans, or a list of them"
                    .into(),
            })?;
            let mut values = Vec::with_capacity(texts.len());
            for text in texts {
                let pattern =
                    Pattern::parse(&text).map_err(|message| PolicyError::InvalidPattern {
                        at: at_key.clone(),
                        message,
                    })?;
                if !pattern.has_variables() {
                    check_typed(op.base, &text).map_err(|message| PolicyError::InvalidValue {
                        at: at_key.clone(),
                        message,
                    })?;
                }
                values.push(pattern);
            }
            if op.base == BaseOp::Null && values.is_empty() {
                return Err(PolicyError::InvalidValue {
                    at: at_key,
                    message: "Null takes true or false".into(),
                });
            }
            out.push(Condition {
                op,
                key: ContextKey::parse(key_name),
                values,
            });
        }
    }
    Ok(out)
}

fn scalar_list(v: &Value) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

/// Checks a literal policy value against its operator's type.
fn check_typed(base: BaseOp, text: &str) -> Result<(), String> {
    use BaseOp::*;
    let ok = match base {
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => parse_number(text).is_some(),
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => parse_date(text).is_some(),
        IpAddress | NotIpAddress => parse_cidr(text).is_some(),
        Bool | Null => parse_bool(text).is_some(),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let what = match base {
        IpAddress | NotIpAddress => "an IP address or CIDR block such as 10.0.0.0/8",
        Bool | Null => "true or false",
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            "a date (ISO 8601 such as 2026-06-01T00:00:00Z, or epoch seconds)"
        }
        _ => "a number",
    };
    Err(format!("{:?} is not {what}", super::pattern::short(text)))
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// An IP address or CIDR block: (network, prefix length).
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
            l.parse::<u8>().ok().filter(|n| *n <= max)?
        }
        Some(_) => return None,
        None => max,
    };
    Some((ip, len))
}

fn in_cidr(ip: IpAddr, (net, len): (IpAddr, u8)) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since the epoch.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')))
}

/// A date as IAM's `Date` operators take it: epoch seconds (an integer), or ISO 8601
/// `YYYY-MM-DD`, optionally `THH:MM[:SS[.fraction]]` and `Z` or `±HH:MM` (UTC when
/// absent). Milliseconds since the epoch.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, body) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if let Some(secs) = digits(body) {
        let secs = if neg { -secs } else { secs };
        return secs.checked_mul(1000);
    }
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let days_in_month = [
        31,
        28 + i64::from(is_leap(y)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month[(mo - 1) as usize] {
        return None;
    }
    let mut ms = days_from_civil(y, mo, d) * 86_400_000;
    let mut rest = &b[10..];
    if rest.is_empty() {
        return Some(ms);
    }
    if rest[0] != b'T' && rest[0] != b't' {
        return None;
    }
    rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let (h, mi) = (digits(&rest[0..2])?, digits(&rest[3..5])?);
    rest = &rest[5..];
    let mut sec = 0;
    let mut frac_ms = 0;
    if rest.first() == Some(&b':') {
        sec = digits(rest.get(1..3)?)?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let frac = &rest[1..1 + n];
            for (i, place) in [100, 10, 1].iter().enumerate() {
                if let Some(c) = frac.get(i) {
                    frac_ms += i64::from(c - b'0') * place;
                }
            }
            rest = &rest[1 + n..];
        }
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    ms += (h * 3600 + mi * 60 + sec) * 1000 + frac_ms;
    match rest {
        [] | [b'Z'] | [b'z'] => Some(ms),
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let (zh, zm) = match zone {
                [a, b, b':', c, d] | [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                [a, b] => (digits(&[*a, *b])?, 0),
                _ => return None,
            };
            if zh > 23 || zm > 59 {
                return None;
            }
            let offset = (zh * 3600 + zm * 60) * 1000;
            Some(if *sign == b'+' {
                ms - offset
            } else {
                ms + offset
            })
        }
        _ => None,
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// A short text built without allocating.
#[derive(Clone, Copy)]
pub(crate) struct ShortText {
    buf: [u8; 48],
    len: usize,
}

impl ShortText {
    fn new() -> Self {
        Self {
            buf: [0; 48],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn push_num(&mut self, mut n: u64, width: usize) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 && tmp.len() - i >= width {
                break;
            }
            if i == 0 {
                break;
            }
        }
        for &b in &tmp[i..] {
            self.push(b);
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl core::fmt::Display for ShortText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `aws:CurrentTime`: ISO 8601 in UTC, `2026-06-01T00:00:00Z` (with `.mmm` when the
/// milliseconds are not zero).
pub(crate) fn format_iso8601(t: Timestamp) -> ShortText {
    let ms = t.unix_millis();
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, mo, d) = civil_from_days(days);
    let mut out = ShortText::new();
    if y < 0 {
        out.push(b'-');
    }
    out.push_num(y.unsigned_abs(), 4);
    out.push(b'-');
    out.push_num(mo as u64, 2);
    out.push(b'-');
    out.push_num(d as u64, 2);
    out.push(b'T');
    let secs = in_day / 1000;
    out.push_num((secs / 3600) as u64, 2);
    out.push(b':');
    out.push_num((secs / 60 % 60) as u64, 2);
    out.push(b':');
    out.push_num((secs % 60) as u64, 2);
    if in_day % 1000 != 0 {
        out.push(b'.');
        out.push_num((in_day % 1000) as u64, 3);
    }
    out.push(b'Z');
    out
}

/// `aws:EpochTime`: whole seconds since the epoch.
pub(crate) fn format_epoch_secs(t: Timestamp) -> ShortText {
    let s = t.unix_secs();
    let mut out = ShortText::new();
    if s < 0 {
        out.push(b'-');
    }
    out.push_num(s.unsigned_abs(), 1);
    out
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// A context value as the operators read it: its text, and that text as a number and
/// as a date (parsed from the text unless the value knows them already).
pub(crate) trait CtxValue {
    /// The text.
    fn text(&self) -> &str;
    /// The text as a number.
    fn number(&self) -> Option<f64> {
        parse_number(self.text())
    }
    /// The text as a date (milliseconds since the epoch).
    fn date(&self) -> Option<i64> {
        parse_date(self.text())
    }
}

impl CtxValue for &str {
    fn text(&self) -> &str {
        self
    }
}

/// A clock value (`aws:CurrentTime` or `aws:EpochTime`) for the `Numeric` and `Date`
/// operators, which read only its number and date: [`clock_number`] and [`clock_date`],
/// equal to parsing the formatted text (a property test holds them so).
pub(crate) struct ClockValue {
    pub(crate) number: Option<f64>,
    pub(crate) date: Option<i64>,
}

impl CtxValue for ClockValue {
    fn text(&self) -> &str {
        ""
    }
    fn number(&self) -> Option<f64> {
        self.number
    }
    fn date(&self) -> Option<i64> {
        self.date
    }
}

/// Whether the operator reads only numbers and dates.
pub(crate) fn is_numeric_or_date(base: BaseOp) -> bool {
    use BaseOp::*;
    matches!(
        base.positive().unwrap_or(base),
        NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals
            | DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals
    )
}

/// `parse_number` of the clock key's text, without formatting it.
pub(crate) fn clock_number(t: Timestamp, epoch: bool) -> Option<f64> {
    // An ISO 8601 date is never a number; whole seconds always are.
    epoch.then(|| t.unix_secs() as f64)
}

/// `parse_date` of the clock key's text, without formatting it.
pub(crate) fn clock_date(t: Timestamp, epoch: bool) -> Option<i64> {
    if epoch {
        // Epoch seconds parse as long as they have at most 18 digits and fit in
        // milliseconds.
        let s = t.unix_secs();
        if s.unsigned_abs() < 1_000_000_000_000_000_000 {
            s.checked_mul(1000)
        } else {
            None
        }
    } else {
        // ISO 8601 parses back for four-digit years.
        let (y, _, _) = civil_from_days(t.unix_millis().div_euclid(86_400_000));
        (0..=9999).contains(&y).then(|| t.unix_millis())
    }
}

/// Whether one context value satisfies a positive operator against one policy value.
fn matches_one<V: CtxValue>(base: BaseOp, v: &V, p: &ResolvedValue) -> bool {
    use BaseOp::*;
    if !p.resolved {
        return false;
    }
    match base {
        StringEquals => v.text() == p.text,
        StringEqualsIgnoreCase => eq_ignore_case(v.text(), &p.text),
        StringLike => glob_toks(&p.toks, v.text()),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => compare(base, v.number(), p.number),
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => compare(base, v.date(), p.date),
        Bool => parse_bool(v.text()).is_some() && parse_bool(v.text()) == p.boolean,
        IpAddress => match (v.text().parse::<IpAddr>(), p.cidr) {
            (Ok(ip), Some(net)) => in_cidr(ip, net),
            _ => false,
        },
        ArnEquals | ArnLike => arn_like(&p.toks, v.text()),
        // Negated operators and Null never reach here.
        _ => false,
    }
}

/// Whether the context's value `a` stands to the policy's `b` as the numeric or date
/// operator `base` asks (equals, less than, ...); false when either is not a number or a
/// date.
#[inline]
fn compare<T: PartialOrd>(base: BaseOp, a: Option<T>, b: Option<T>) -> bool {
    use BaseOp::*;
    let (Some(a), Some(b)) = (a, b) else {
        return false;
    };
    match base {
        NumericEquals | DateEquals => a == b,
        NumericLessThan | DateLessThan => a < b,
        NumericLessThanEquals | DateLessThanEquals => a <= b,
        NumericGreaterThan | DateGreaterThan => a > b,
        _ => a >= b,
    }
}

/// Evaluates one operator on one key: `values` are the key's values in the context
/// (`None` or empty when absent), `policy` the policy's resolved values. Allocates
/// nothing.
pub(crate) fn eval<V: CtxValue>(
    op: Operator,
    values: Option<&[V]>,
    policy: &[ResolvedValue],
) -> bool {
    let values = values.filter(|v| !v.is_empty());
    if op.base == BaseOp::Null {
        let present = values.is_some();
        return policy
            .iter()
            .any(|p| p.resolved && p.boolean == Some(!present));
    }
    let (base, negated) = match op.base.positive() {
        Some(pos) => (pos, true),
        None => (op.base, false),
    };
    let Some(values) = values else {
        return match op.qualifier {
            Qualifier::ForAllValues => true,
            Qualifier::ForAnyValue => false,
            Qualifier::None => op.if_exists || negated,
        };
    };
    let m = |v: &V| policy.iter().any(|p| matches_one(base, v, p));
    match (op.qualifier, negated) {
        (Qualifier::ForAllValues, false) => values.iter().all(m),
        (Qualifier::ForAllValues, true) => values.iter().all(|v| !m(v)),
        (Qualifier::ForAnyValue, false) => values.iter().any(m),
        (Qualifier::ForAnyValue, true) => values.iter().any(|v| !m(v)),
        (Qualifier::None, false) => values.iter().any(m),
        (Qualifier::None, true) => !values.iter().any(m),
    }
}

/// Resolves a pattern's variables against a context: `None` when one has no value.
pub(crate) fn resolve(pattern: &Pattern, ctx: &super::AuthContext) -> Option<Vec<Tok>> {
    use super::keys::Substitution;
    let mut out = Vec::with_capacity(pattern.pieces.len());
    for piece in &pattern.pieces {
        let t = match piece {
            Piece::Lit(s) => Tok::Lit(s.clone()),
            Piece::Star => Tok::Star,
            Piece::Any => Tok::Any,
            Piece::Var(key, text) => match key.substitute(ctx) {
                Substitution::Value(v) => Tok::Lit(v),
                Substitution::LeftLiteral => Tok::Lit(format!("${{{text}}}")),
                Substitution::Missing => return None,
            },
        };
        push_tok(&mut out, t);
    }
    Some(out)
}

/// Evaluates a condition against the context (resolving the policy's variables).
pub(crate) fn eval_condition(c: &Condition, ctx: &super::AuthContext) -> bool {
    let resolved: Vec<ResolvedValue> = c
        .values
        .iter()
        .map(|p| ResolvedValue::from_toks(resolve(p, ctx)))
        .collect();
    let values = c.key.values(ctx);
    let refs: Option<Vec<&str>> = values
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    eval(c.op, refs.as_deref(), &resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str) -> Operator {
        Operator::parse(name).unwrap()
    }

    fn lit(s: &str) -> ResolvedValue {
        ResolvedValue::from_toks(Some(super::super::pattern::tests::toks(s)))
    }

    /// Whether the condition `operator` holds for one request value against one policy
    /// value.
    fn holds(operator: &str, value: &str, pattern: &str) -> bool {
        eval(op(operator), Some(&[value]), &[lit(pattern)])
    }

    #[test]
    fn operators_parse_with_qualifiers_and_if_exists() {
        let o = op("ForAllValues:StringEqualsIfExists");
        assert_eq!(o.base, BaseOp::StringEquals);
        assert_eq!(o.qualifier, Qualifier::ForAllValues);
        assert!(o.if_exists);
        assert_eq!(op("stringlike").base, BaseOp::StringLike);
        for bad in [
            "StringEqualz",
            "NullIfExists",
            "ForAllValues:Null",
            "BinaryEquals",
            "IfExists",
            "ForSomeValues:StringEquals",
            "",
            // Cut inside a character at the qualifier's or the suffix's length (found by
            // the fuzzer).
            "ForAllVa\u{e9}\u{e9}\u{e9}:StringEquals",
            "StringEquals\u{1f600}xists",
        ] {
            assert!(Operator::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn absent_keys_follow_iam() {
        let p = [lit("x")];
        assert!(!eval(op("StringEquals"), None::<&[&str]>, &p));
        assert!(eval(op("StringNotEquals"), None::<&[&str]>, &p));
        assert!(eval(op("StringEqualsIfExists"), None::<&[&str]>, &p));
        assert!(eval(op("ForAllValues:StringEquals"), None::<&[&str]>, &p));
        assert!(!eval(op("ForAnyValue:StringEquals"), None::<&[&str]>, &p));
        assert!(eval(
            op("ForAllValues:StringEquals"),
            Some::<&[&str]>(&[]),
            &p
        ));
        assert!(eval(op("Null"), None::<&[&str]>, &[lit("true")]));
        assert!(!holds("Null", "v", "true"));
        assert!(holds("Null", "v", "false"));
    }

    #[test]
    fn set_operators() {
        let p = [lit("PersistentConnect"), lit("LastWill")];
        let both = ["PersistentConnect", "LastWill"];
        let one = ["LastWill"];
        let other = ["LastWill", "Other"];
        let fa = op("ForAllValues:StringEquals");
        assert!(eval(fa, Some(&both), &p));
        assert!(eval(fa, Some(&one), &p));
        assert!(!eval(fa, Some(&other), &p));
        let fany = op("ForAnyValue:StringEquals");
        assert!(eval(fany, Some(&other), &[lit("Other")]));
        assert!(!eval(fany, Some(&one), &[lit("Other")]));
        // ForAllValues with an empty policy list: only an empty request set passes.
        assert!(!eval(fa, Some(&one), &[]));
        assert!(eval(fa, None::<&[&str]>, &[]));
        let fa_not = op("ForAllValues:StringNotEquals");
        assert!(eval(fa_not, Some(&one), &[lit("PersistentConnect")]));
        assert!(!eval(fa_not, Some(&both), &[lit("PersistentConnect")]));
        // Negated operators are NOR over values.
        assert!(!eval(
            op("StringNotEquals"),
            Some(&["a"]),
            &[lit("b"), lit("a")]
        ));
        assert!(eval(
            op("StringNotEquals"),
            Some(&["c"]),
            &[lit("b"), lit("a")]
        ));
    }

    #[test]
    fn typed_operators() {
        assert!(holds("StringLike", "room12", "room*"));
        assert!(!holds("StringLike", "Room12", "room*"));
        assert!(holds("StringEqualsIgnoreCase", "ÉTÉ", "été"));
        assert!(holds("StringEquals", "a*", "a*"));
        assert!(!holds("StringEquals", "ab", "a*"));
        assert!(holds("NumericLessThan", "3", "3.5"));
        assert!(!holds("NumericLessThan", "x", "3.5"));
        assert!(holds("Bool", "true", "TRUE"));
        assert!(!holds("Bool", "false", "true"));
        assert!(holds("IpAddress", "10.1.2.3", "10.0.0.0/8"));
        assert!(!holds("IpAddress", "11.1.2.3", "10.0.0.0/8"));
        assert!(holds("NotIpAddress", "11.1.2.3", "10.0.0.0/8"));
        assert!(holds("IpAddress", "123.45.167.89", "123.45.167.89"));
        assert!(holds("IpAddress", "2001:db8::1", "2001:db8::/32"));
        assert!(!holds("IpAddress", "2001:db8::1", "10.0.0.0/8"));
        assert!(holds("IpAddress", "1.2.3.4", "0.0.0.0/0"));
        assert!(holds(
            "DateLessThan",
            "2026-06-01T00:00:00Z",
            "2026-06-01T00:00:01Z"
        ));
        assert!(holds(
            "DateEquals",
            "2026-06-01T02:00:00+02:00",
            "1780272000"
        ));
        let will = "arn:aws:iot:us-east-1:123456789012:topic/my/lastwill/topicName";
        assert!(holds(
            "ArnEquals",
            will,
            "arn:aws:iot:us-east-1:123456789012:topic/*my/lastwill/topicName*"
        ));
        // AWS's example writes *region* and *account-id* as placeholders: taken
        // literally they match no real region.
        assert!(!holds(
            "ArnLike",
            will,
            "arn:aws:iot:*region*:*account-id*:topic/*my/lastwill/topicName*"
        ));
    }

    proptest::proptest! {
        #[test]
        fn clock_values_equal_parsing_their_text(
            ms in proptest::prelude::any::<i64>(),
            near in -400_000_000_000_000i64..400_000_000_000_000,
        ) {
            for ms in [ms, near, ms / 1000] {
                clock_values_match_their_text(ms);
            }
        }
    }

    /// At `ms`, the clock key's values as a date and as a number equal what parsing their
    /// text gives, in both text forms.
    fn clock_values_match_their_text(ms: i64) {
        let t = Timestamp::from_unix_millis(ms);
        for epoch in [false, true] {
            let text = if epoch {
                format_epoch_secs(t)
            } else {
                format_iso8601(t)
            };
            assert_eq!(clock_date(t, epoch), parse_date(text.as_str()), "{text}");
            assert_eq!(
                clock_number(t, epoch),
                parse_number(text.as_str()),
                "{text}"
            );
        }
    }

    #[test]
    fn clock_values_at_the_edges_of_four_digit_years() {
        for ms in [
            days_from_civil(0, 1, 1) * 86_400_000,
            days_from_civil(0, 1, 1) * 86_400_000 - 1,
            253_402_300_799_999,
            253_402_300_800_000,
            i64::MIN,
            i64::MAX,
            -1,
        ] {
            clock_values_match_their_text(ms);
        }
    }

    #[test]
    fn dates_parse_and_print() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_date("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_date("1970-01-01T01:00+01:00"), Some(0));
        assert_eq!(parse_date("1780272000"), Some(1_780_272_000_000));
        assert_eq!(
            parse_date("2024-02-29"),
            Some(days_from_civil(2024, 2, 29) * 86_400_000)
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-06-01T25:00Z",
            "x",
            "",
            "2026-06-01T00:00:00Q",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        for ms in [
            0,
            1_780_272_000_000,
            1_780_272_000_123,
            -1,
            -86_400_000,
            253_402_300_799_000,
        ] {
            let t = Timestamp::from_unix_millis(ms);
            let text = format_iso8601(t);
            assert_eq!(parse_date(text.as_str()), Some(ms), "{text}");
        }
        assert_eq!(
            format_iso8601(Timestamp::from_unix_secs(1_780_272_000)).as_str(),
            "2026-06-01T00:00:00Z"
        );
        assert_eq!(
            format_epoch_secs(Timestamp::from_unix_millis(-1)).as_str(),
            "-1"
        );
        assert_eq!(
            format_epoch_secs(Timestamp::from_unix_secs(42)).as_str(),
            "42"
        );
        // Extreme times format without panicking.
        let _ = format_iso8601(Timestamp::from_unix_millis(i64::MIN));
        let _ = format_iso8601(Timestamp::from_unix_millis(i64::MAX));
    }
}
