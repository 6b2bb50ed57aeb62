//! Resource and condition-value patterns: literal text, the wildcards `*` (any run of
//! characters, `/` and `:` included) and `?` (exactly one character), policy variables
//! `${name}`, and the escapes `${*}`/`$(*)`, `${?}`/`$(?)`, `${$}`/`$($)`.
//!
//! A pattern is parsed once, with the policy ([`Pattern::parse`]); at evaluation its
//! variables are resolved against the context into a list of [`Tok`]s, which
//! [`glob`] matches against a text without allocating.

use super::keys::ContextKey;

/// One parsed piece of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text (escapes already turned into their character).
    Lit(String),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    Any,
    /// `${name}`: a policy variable, with the exact text it was written as.
    Var(ContextKey, String),
}

/// A parsed pattern: its source text and pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub(crate) source: String,
    pub(crate) pieces: Vec<Piece>,
}

/// Why a pattern does not parse.
pub(crate) type PatternError = String;

/// The longest variable name accepted inside `${...}`.
const MAX_VARIABLE_NAME: usize = 256;

impl Pattern {
    /// Parses `text`. An unbalanced `${`, an empty `${}` or a name with white space or
    /// braces is an error; a `$` not followed by `{` or an escape is literal (topics such
    /// as `$aws/things/...` are common).
    pub(crate) fn parse(text: &str) -> Result<Self, PatternError> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match c {
                '*' | '?' => {
                    flush(&mut pieces, &mut lit);
                    pieces.push(if c == '*' { Piece::Star } else { Piece::Any });
                    rest = &rest[1..];
                }
                '$' if rest.starts_with("${") => {
                    let inner = &rest[2..];
                    let end = inner.find('}').ok_or_else(|| {
                        format!(
                            "unbalanced \"${{\" in {:?}: a policy variable is written ${{name}}",
                            short(text)
                        )
                    })?;
                    let name = &inner[..end];
                    match name {
                        "*" | "?" | "$" => lit.push_str(name),
                        _ => {
                            check_variable_name(name, text)?;
                            flush(&mut pieces, &mut lit);
                            pieces.push(Piece::Var(ContextKey::parse(name), name.to_string()));
                        }
                    }
                    rest = &inner[end + 1..];
                }
                '$' if ["$(*)", "$(?)", "$($)"].iter().any(|e| rest.starts_with(e)) => {
                    lit.push_str(&rest[2..3]);
                    rest = &rest[4..];
                }
                _ => {
                    lit.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        flush(&mut pieces, &mut lit);
        Ok(Self {
            source: text.to_string(),
            pieces,
        })
    }

    /// The variables the pattern uses.
    pub(crate) fn variables(&self) -> impl Iterator<Item = (&ContextKey, &str)> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(k, text) => Some((k, text.as_str())),
            _ => None,
        })
    }

    /// Whether the pattern has a variable.
    pub(crate) fn has_variables(&self) -> bool {
        self.variables().next().is_some()
    }
}

fn flush(pieces: &mut Vec<Piece>, lit: &mut String) {
    if !lit.is_empty() {
        pieces.push(Piece::Lit(std::mem::take(lit)));
    }
}

fn check_variable_name(name: &str, text: &str) -> Result<(), PatternError> {
    if name.is_empty() {
        return Err(format!(
            "empty policy variable \"${{}}\" in {:?}",
            short(text)
        ));
    }
    if name.chars().count() > MAX_VARIABLE_NAME {
        return Err(format!(
            "a policy variable name in {:?} is longer than {MAX_VARIABLE_NAME} characters",
            short(text)
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '{' | '$' | '\''))
    {
        return Err(format!(
            "the policy variable ${{{}}} in {:?} has the character {c:?}, which no variable name has",
            short(name),
            short(text)
        ));
    }
    Ok(())
}

/// At most 80 characters of `s`, for messages.
pub(crate) fn short(s: &str) -> String {
    if s.chars().count() <= 80 {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(77).collect();
        out.push_str("...");
        out
    }
}

/// One token of a resolved pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Literal text.
    Lit(String),
    /// `*`.
    Star,
    /// `?`.
    Any,
}

/// A borrowed view of a token, whatever its storage.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TokRef<'a> {
    Lit(&'a [u8]),
    Star,
    Any,
}

impl Tok {
    pub(crate) fn view(&self) -> TokRef<'_> {
        match self {
            Tok::Lit(s) => TokRef::Lit(s.as_bytes()),
            Tok::Star => TokRef::Star,
            Tok::Any => TokRef::Any,
        }
    }
}

/// Appends a token, merging adjacent literals.
pub(crate) fn push_tok(toks: &mut Vec<Tok>, t: Tok) {
    match (toks.last_mut(), t) {
        (Some(Tok::Lit(prev)), Tok::Lit(s)) => prev.push_str(&s),
        (_, Tok::Lit(s)) if s.is_empty() => {}
        (_, t) => toks.push(t),
    }
}

/// The length of the UTF-8 character whose first byte is `b`.
#[inline]
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Whether `text` matches the tokens: `*` any run of characters, `?` exactly one
/// character, literals byte for byte. Greedy with backtracking to the last `*` (the
/// classic wildcard algorithm, O(tokens × text) at worst); allocates nothing.
#[inline]
pub(crate) fn glob<'a, T: 'a>(
    toks: &'a [T],
    view: impl Fn(&'a T) -> TokRef<'a>,
    text: &[u8],
) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    // (token after the last star, text position that star has consumed up to)
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(t) = toks.get(pi) {
            match view(t) {
                TokRef::Star => {
                    pi += 1;
                    if pi == toks.len() {
                        return true; // a trailing star takes whatever is left
                    }
                    star = Some((pi, ti));
                    continue;
                }
                TokRef::Any => {
                    if let Some(&b) = text.get(ti) {
                        ti = (ti + char_len(b)).min(text.len());
                        pi += 1;
                        continue;
                    }
                }
                TokRef::Lit(s) => {
                    if text.get(ti..).is_some_and(|rest| rest.starts_with(s)) {
                        ti += s.len();
                        pi += 1;
                        continue;
                    }
                }
            }
        } else if ti == text.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more character, or fail.
        match star {
            Some((sp, st)) if st < text.len() => {
                let next = (st + char_len(text[st])).min(text.len());
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            _ => return false,
        }
    }
}

/// [`glob`] over owned tokens.
pub(crate) fn glob_toks(toks: &[Tok], text: &str) -> bool {
    glob(toks, Tok::view, text.as_bytes())
}

/// `ArnEquals` / `ArnLike` as IAM does them: the six colon-separated parts of the ARN
/// (`arn:partition:service:region:account:resource`, the last one keeping any further
/// colons) are matched part by part, each with `*` and `?`. A value with fewer than six
/// parts matches nothing.
pub(crate) fn arn_like(toks: &[Tok], value: &str) -> bool {
    let Some(value_parts) = split_arn(value) else {
        return false;
    };
    let pattern_parts = split_toks_arn(toks);
    if pattern_parts.len() != 6 {
        return false;
    }
    pattern_parts
        .iter()
        .zip(value_parts.iter())
        .all(|(p, v)| glob_toks(p, v))
}

fn split_arn(value: &str) -> Option<[&str; 6]> {
    let mut parts = value.splitn(6, ':');
    let mut out = [""; 6];
    for slot in &mut out {
        *slot = parts.next()?;
    }
    Some(out)
}

/// Splits resolved tokens at the first five literal colons.
fn split_toks_arn(toks: &[Tok]) -> Vec<Vec<Tok>> {
    let mut parts: Vec<Vec<Tok>> = vec![Vec::new()];
    for t in toks {
        match t {
            Tok::Lit(s) => {
                let mut rest = s.as_str();
                while parts.len() < 6 {
                    let Some(i) = rest.find(':') else { break };
                    if let Some(last) = parts.last_mut() {
                        push_tok(last, Tok::Lit(rest[..i].to_string()));
                    }
                    parts.push(Vec::new());
                    rest = &rest[i + 1..];
                }
                if let Some(last) = parts.last_mut() {
                    push_tok(last, Tok::Lit(rest.to_string()));
                }
            }
            other => {
                if let Some(last) = parts.last_mut() {
                    push_tok(last, other.clone());
                }
            }
        }
    }
    parts
}

/// The ways `toks` can go on matching after it has consumed all of `prefix`: each is
/// the rest of the pattern to match against the remainder of the text. The union of
/// their matches against `name` is exactly the set of `prefix + name` the whole pattern
/// matches (a glob is a finite automaton; these are its states after `prefix`). Empty
/// when no text starting with `prefix` can match.
pub(crate) fn residuals_after(toks: &[Tok], prefix: &str) -> Vec<Vec<Tok>> {
    // The usual case, a leading literal at least as long as the prefix: one residual or
    // none, without running the automaton.
    if let Some(Tok::Lit(s)) = toks.first() {
        if s.len() >= prefix.len() || !prefix.starts_with(s.as_str()) {
            return match s.strip_prefix(prefix) {
                Some(rest) => {
                    let mut out = Vec::with_capacity(toks.len());
                    push_tok(&mut out, Tok::Lit(rest.to_string()));
                    for t in &toks[1..] {
                        push_tok(&mut out, t.clone());
                    }
                    vec![out]
                }
                None => Vec::new(),
            };
        }
    }
    // A state: (token index, byte offset inside that token when it is a literal).
    let mut states: Vec<(usize, usize)> = Vec::new();
    add_state(toks, &mut states, (0, 0));
    let mut next: Vec<(usize, usize)> = Vec::new();
    for c in prefix.chars() {
        next.clear();
        let mut buf = [0u8; 4];
        let cb = c.encode_utf8(&mut buf).as_bytes();
        for &(i, off) in &states {
            match toks.get(i) {
                Some(Tok::Star) => add_state(toks, &mut next, (i, 0)),
                Some(Tok::Any) => add_state(toks, &mut next, (i + 1, 0)),
                Some(Tok::Lit(s)) if s.as_bytes().get(off..).is_some_and(|r| r.starts_with(cb)) => {
                    add_state(toks, &mut next, (i, off + cb.len()));
                }
                Some(Tok::Lit(_)) => {}
                None => {}
            }
        }
        std::mem::swap(&mut states, &mut next);
        if states.is_empty() {
            break;
        }
    }
    let mut out: Vec<Vec<Tok>> = Vec::new();
    for (i, off) in states {
        let mut rest = Vec::new();
        match toks.get(i) {
            Some(Tok::Lit(s)) => push_tok(&mut rest, Tok::Lit(s[off..].to_string())),
            Some(t) => rest.push(t.clone()),
            None => {}
        }
        for t in toks.iter().skip(i + 1) {
            push_tok(&mut rest, t.clone());
        }
        if !out.contains(&rest) {
            out.push(rest);
        }
    }
    out
}

/// Adds a state with its ε-closure: a finished literal moves to the next token; a star
/// may also match nothing.
fn add_state(toks: &[Tok], states: &mut Vec<(usize, usize)>, (mut i, mut off): (usize, usize)) {
    loop {
        if let Some(Tok::Lit(s)) = toks.get(i) {
            if off >= s.len() {
                i += 1;
                off = 0;
                continue;
            }
        }
        break;
    }
    if states.contains(&(i, off)) {
        return;
    }
    states.push((i, off));
    if let Some(Tok::Star) = toks.get(i) {
        add_state(toks, states, (i + 1, 0));
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The tokens of a pattern without variables (the condition tests use it too).
    pub(in crate::policy) fn toks(p: &str) -> Vec<Tok> {
        let mut out = Vec::new();
        for piece in Pattern::parse(p).unwrap().pieces {
            push_tok(
                &mut out,
                match piece {
                    Piece::Lit(s) => Tok::Lit(s),
                    Piece::Star => Tok::Star,
                    Piece::Any => Tok::Any,
                    Piece::Var(..) => panic!("no variables here"),
                },
            );
        }
        out
    }

    fn m(p: &str, t: &str) -> bool {
        glob_toks(&toks(p), t)
    }

    #[test]
    fn star_crosses_slashes_and_colons_question_is_one_character() {
        assert!(m("topic/*", "topic/a/b/c"));
        assert!(m("topic/*", "topic/"));
        assert!(m("a*c", "abc:/xc"));
        assert!(!m("topic/?", "topic/"));
        assert!(m("topic/?", "topic/é"));
        assert!(!m("topic/?", "topic/ab"));
        assert!(m("some/?????/topic", "some/abcde/topic"));
        assert!(!m("some/?????/topic", "some/abcd/topic"));
        assert!(m("*", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b*", "xxbxxaxx"));
    }

    #[test]
    fn mqtt_wildcards_are_literal() {
        assert!(m("some/+/topic", "some/+/topic"));
        assert!(!m("some/+/topic", "some/x/topic"));
        assert!(m("a/#", "a/#"));
        assert!(!m("a/#", "a/b"));
    }

    #[test]
    fn escapes_are_literal_characters() {
        assert!(m("a$(*)b", "a*b"));
        assert!(!m("a$(*)b", "axb"));
        assert!(m("a${*}b", "a*b"));
        assert!(m("a$(?)", "a?"));
        assert!(!m("a$(?)", "ax"));
        assert!(m("$($)aws/x", "$aws/x"));
        assert!(m("${$}aws", "$aws"));
        assert!(m("$aws/things/*", "$aws/things/t/shadow"));
        assert!(m("$(x)", "$(x)"));
    }

    #[test]
    fn bad_variables_are_errors() {
        for bad in [
            "${iot:ClientId",
            "a/${",
            "${}",
            "${a b}",
            "${a{b}",
            "${a$b}",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
        let p = Pattern::parse("a/${iot:ClientId}/}").unwrap();
        assert_eq!(p.pieces.len(), 3);
    }

    #[test]
    fn arn_like_is_per_component() {
        let p = toks("arn:aws:iot:*:*:topic/*my/lastwill/topicName*");
        assert!(arn_like(
            &p,
            "arn:aws:iot:us-east-1:123456789012:topic/my/lastwill/topicName"
        ));
        assert!(!arn_like(
            &p,
            "arn:aws:iot:us-east-1:123456789012:topic/other"
        ));
        // `*` in the region does not cross into the account.
        let p = toks("arn:aws:iot:us*:123:topic/x");
        assert!(!arn_like(&p, "arn:aws:iot:us:east:123:topic/x"));
        assert!(!arn_like(&p, "arn:aws:iot"));
        // The resource part keeps its colons.
        let p = toks("arn:aws:iot:r:1:topic/a:b");
        assert!(arn_like(&p, "arn:aws:iot:r:1:topic/a:b"));
    }

    #[test]
    fn residuals_match_exactly_what_the_whole_pattern_matches() {
        let prefix = "arn:aws:iot:us-east-1:123456789012:topic/";
        let names = [
            "",
            "a",
            "a:b",
            "x/y",
            "foo/bar",
            ":123456789012:topic/x",
            "é",
        ];
        let patterns = [
            "*",
            "arn:aws:iot:us-east-1:123456789012:topic/foo/*",
            "arn:aws:iot:*:*:topic/x",
            "arn:aws:iot:*:123456789012:*",
            "arn:aws:iot:us-east-1:123456789012:topicfilter/*",
            "arn:aws:iot:us-east-1:123456789012:topic",
            "arn:aws:iot:us-east-1:123456789012:topic/?",
            "arn:*:topic/*:*",
            "*topic/x",
            "arn:aws:iot:us-east-?:*:topic/a*",
        ];
        for p in patterns {
            let t = toks(p);
            let rs = residuals_after(&t, prefix);
            for n in names {
                let whole = glob_toks(&t, &format!("{prefix}{n}"));
                let parts = rs.iter().any(|r| glob_toks(r, n));
                assert_eq!(whole, parts, "{p} / {n:?}");
            }
        }
    }
}
