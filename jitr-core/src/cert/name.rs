//! Distinguished names compared as RFC 5280 §7.1 says: attribute by attribute, after the
//! string preparation of RFC 4518 (LDAP StringPrep), not byte for byte.
//!
//! A device whose issuer name is encoded differently from its CA's subject (a
//! `PrintableString` where the CA has a `UTF8String`, another letter case, extra or
//! doubled spaces, attributes of a multi-valued RDN in another order) names the same CA.
//! [`NameKey`] is the form in which two names that match are equal bytes, so the CA index
//! stays one hash lookup: the key is prepared once when a CA is indexed and once per
//! unknown leaf. Known certificates never get here (their SHA-256 decides).
//!
//! ## The rule
//! Two names match when they have the same RDNs in the same order; two RDNs match when
//! they hold the same attributes in any order (RFC 5280 §7.1); two attributes match when
//! their types are the same OID and their values are equal after preparation:
//!
//! - **Which values are prepared.** Every string value: the `DirectoryString` choices
//!   (`UTF8String`, `PrintableString`, `TeletexString` read as ISO 8859-1, as OpenSSL does,
//!   `BMPString`, `UniversalString`) and `IA5String` (`emailAddress`, `domainComponent`).
//!   All are compared with `caseIgnoreMatch`, whatever the attribute type (as OpenSSL's
//!   canonical name encoding does): the few `caseExactMatch` types never appear in
//!   certificates' names, and the name only selects candidates — the CA's key must still
//!   verify the signature, so a broader match can never let a certificate through that
//!   its CA did not sign. Any other value (an OCTET STRING, a malformed string) is
//!   compared as its exact encoding.
//! - **Preparation** (RFC 4518 §2, with RFC 5280 §7.1's clarifications): the string is
//!   mapped (soft hyphens, joiners and control characters removed, every other space
//!   character made a SPACE), case-folded with RFC 3454's table B.2 and normalized to
//!   NFKC (`stringprep`'s `x520prep`, then `unicode-normalization`); a value with a
//!   prohibited character (private use, non-character, U+FFFD, unassigned in Unicode 3.2)
//!   cannot be prepared and is compared as its exact encoding, so it matches only itself.
//!   Then insignificant spaces go (§2.6.1): leading and trailing spaces are dropped and
//!   inner runs count as one; a value of spaces only equals the empty value.
//! - **Limits.** `domainComponent` values are case-folded but not converted between
//!   U-labels and A-labels (RFC 5280 §7.3); bidirectional text is not checked (RFC 4518
//!   §2.5 says there is nothing to check).
//!
//! A name that is not well-formed DER keeps its exact bytes as its key: it matches only
//! the same bytes, as before this rule.

use std::fmt;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use x509_parser::asn1_rs::{Any, Class, FromDer};

/// A distinguished name in the form where names that match per RFC 5280 §7.1 are equal.
/// Hash it, compare it; its bytes mean nothing outside this module.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct NameKey(Box<[u8]>);

impl fmt::Debug for NameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameKey({})", hex::encode(&self.0))
    }
}

/// Key kinds: the first byte of every key, so a prepared key and a raw fallback never
/// collide.
const PREPARED: u8 = 0;
const RAW: u8 = 1;
/// Value kinds inside a prepared key.
const STRING: u8 = b'S';
const OTHER: u8 = b'O';

impl NameKey {
    /// The key of a `Name` given as its DER contents, without the outer SEQUENCE header
    /// (the form webpki hands out as a certificate's issuer and subject).
    pub(crate) fn of_contents(contents: &[u8]) -> Self {
        let mut key = Vec::with_capacity(contents.len() + 16);
        key.push(PREPARED);
        if prepare_name(contents, &mut key).is_none() {
            key.clear();
            key.push(RAW);
            key.extend_from_slice(contents);
        }
        Self(key.into_boxed_slice())
    }

    /// The key of a `Name` given as its whole DER encoding (with the SEQUENCE header).
    pub(crate) fn of_der(der: &[u8]) -> Self {
        match Any::from_der(der) {
            Ok((rest, any)) if rest.is_empty() && any.tag().0 == 16 => Self::of_contents(any.data),
            _ => {
                let mut key = Vec::with_capacity(der.len() + 1);
                key.push(RAW);
                key.extend_from_slice(der);
                Self(key.into_boxed_slice())
            }
        }
    }
}

/// Appends the prepared form of a Name's RDNs to `out`; `None` if the DER is not a
/// sequence of non-empty SETs of (OID, value) SEQUENCEs.
fn prepare_name(mut rest: &[u8], out: &mut Vec<u8>) -> Option<()> {
    while !rest.is_empty() {
        let (next, set) = Any::from_der(rest).ok()?;
        rest = next;
        if set.class() != Class::Universal || set.tag().0 != 17 || !set.header.is_constructed() {
            return None;
        }
        let mut attributes: Vec<Vec<u8>> = Vec::new();
        let mut members = set.data;
        while !members.is_empty() {
            let (next, atv) = Any::from_der(members).ok()?;
            members = next;
            if atv.class() != Class::Universal || atv.tag().0 != 16 {
                return None;
            }
            let (after_type, oid) = Any::from_der(atv.data).ok()?;
            if oid.class() != Class::Universal || oid.tag().0 != 6 {
                return None;
            }
            let (after_value, value) = Any::from_der(after_type).ok()?;
            if !after_value.is_empty() {
                return None;
            }
            let mut one = Vec::with_capacity(oid.data.len() + value.data.len() + 12);
            push_prefixed(&mut one, oid.data);
            match string_value(&value).and_then(|s| prepare(&s)) {
                Some(prepared) => {
                    one.push(STRING);
                    push_prefixed(&mut one, prepared.as_bytes());
                }
                None => {
                    one.push(OTHER);
                    one.push(value.class() as u8);
                    one.push(u8::from(value.header.is_constructed()));
                    one.extend_from_slice(&value.tag().0.to_be_bytes());
                    push_prefixed(&mut one, value.data);
                }
            }
            attributes.push(one);
        }
        if attributes.is_empty() {
            return None;
        }
        // An RDN is a set: its attributes match in any order.
        attributes.sort_unstable();
        out.push(b'{');
        out.extend_from_slice(&u32::try_from(attributes.len()).ok()?.to_be_bytes());
        for a in &attributes {
            push_prefixed(out, a);
        }
    }
    Some(())
}

fn push_prefixed(out: &mut Vec<u8>, bytes: &[u8]) {
    // Names are bounded by the certificate size (64 KiB), far below u32::MAX.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The text of a string-typed attribute value; `None` for other types and for strings
/// whose bytes do not decode as their type says.
fn string_value(value: &Any<'_>) -> Option<String> {
    if value.class() != Class::Universal || value.header.is_constructed() {
        return None;
    }
    let data = value.data;
    match value.tag().0 {
        // UTF8String
        12 => core::str::from_utf8(data).ok().map(str::to_string),
        // PrintableString, IA5String, VisibleString: ASCII.
        19 | 22 | 26 => data
            .is_ascii()
            .then(|| core::str::from_utf8(data).ok().map(str::to_string))
            .flatten(),
        // TeletexString: read as ISO 8859-1, as OpenSSL does.
        20 => Some(data.iter().map(|&b| char::from(b)).collect()),
        // UniversalString: UCS-4, big-endian.
        28 => {
            if data.len() % 4 != 0 {
                return None;
            }
            data.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        // BMPString: UCS-2 (read as UTF-16), big-endian.
        30 => {
            if data.len() % 2 != 0 {
                return None;
            }
            char::decode_utf16(
                data.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]])),
            )
            .collect::<Result<String, _>>()
            .ok()
        }
        _ => None,
    }
}

/// RFC 4518 string preparation for `caseIgnoreMatch` (RFC 5280 §7.1): map, case-fold,
/// NFKC, prohibit, then insignificant space handling. `None` if a prohibited character
/// makes the value unpreparable.
pub(crate) fn prepare(value: &str) -> Option<String> {
    // Printable ASCII (nearly every certificate name): mapping, folding and normalizing
    // reduce to lowercasing.
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Some(squeeze_spaces(
            value.chars().map(|c| c.to_ascii_lowercase()),
        ));
    }
    let mapped = match stringprep::x520prep(value, true) {
        Ok(mapped) => mapped,
        // An empty value, or one the mapping empties, is all insignificant space.
        Err(_)
            if value
                .chars()
                .all(stringprep::tables::x520_mapped_to_nothing) =>
        {
            return Some(String::new())
        }
        Err(_) => return None,
    };
    // x520prep folds with RFC 3454's table B.2, which is meant to be followed by NFKC.
    Some(squeeze_spaces(mapped.nfkc()))
}

/// RFC 4518 §2.6.1: no leading or trailing spaces, one space for every inner run. A
/// SPACE followed by a combining mark is not a space and is kept.
fn squeeze_spaces(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    let mut chars = chars.peekable();
    while let Some(c) = chars.next() {
        let insignificant = c == ' ' && !chars.peek().is_some_and(|&next| is_combining_mark(next));
        if insignificant {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attribute: (OID bytes, string tag, value bytes).
    type Atv<'a> = (&'a [u8], u8, &'a [u8]);

    /// The DER of a Name from RDNs of attributes.
    fn name(rdns: &[&[Atv<'_>]]) -> Vec<u8> {
        fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            if body.len() < 128 {
                out.push(body.len() as u8);
            } else {
                out.push(0x82);
                out.extend_from_slice(&(body.len() as u16).to_be_bytes());
            }
            out.extend_from_slice(body);
            out
        }
        let mut seq = Vec::new();
        for rdn in rdns {
            let mut set = Vec::new();
            for (oid, tag, value) in *rdn {
                let mut atv = tlv(6, oid);
                atv.extend(tlv(*tag, value));
                set.extend(tlv(0x30, &atv));
            }
            seq.extend(tlv(0x31, &set));
        }
        tlv(0x30, &seq)
    }

    const CN: &[u8] = &[0x55, 0x04, 0x03];
    const O: &[u8] = &[0x55, 0x04, 0x0a];
    const C: &[u8] = &[0x55, 0x04, 0x06];
    const UTF8: u8 = 12;
    const PRINTABLE: u8 = 19;
    const BMP: u8 = 30;
    const UNIVERSAL: u8 = 28;
    const TELETEX: u8 = 20;

    fn key(rdns: &[&[Atv<'_>]]) -> NameKey {
        NameKey::of_der(&name(rdns))
    }

    #[test]
    fn string_types_case_and_spaces_do_not_matter() {
        let ca = key(&[&[(C, PRINTABLE, b"US")], &[(CN, UTF8, b"Example CA")]]);
        // PrintableString vs UTF8String, letter case, insignificant spaces.
        assert_eq!(
            ca,
            key(&[&[(C, UTF8, b"us")], &[(CN, PRINTABLE, b"  EXAMPLE   ca ")]])
        );
        // BMPString and UniversalString of the same text.
        let bmp: Vec<u8> = "Example CA"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let ucs4: Vec<u8> = "example ca"
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        assert_eq!(ca, key(&[&[(C, PRINTABLE, b"US")], &[(CN, BMP, &bmp)]]));
        assert_eq!(
            ca,
            key(&[&[(C, PRINTABLE, b"US")], &[(CN, UNIVERSAL, &ucs4)]])
        );
        // Tabs and line breaks are spaces (RFC 4518 §2.2).
        assert_eq!(
            ca,
            key(&[&[(C, PRINTABLE, b"US")], &[(CN, UTF8, b"Example\t\nCA")]])
        );
    }

    #[test]
    fn unicode_is_folded_and_normalized() {
        // "Straße" vs "STRASSE" (full case folding), é precomposed vs decomposed,
        // a fullwidth "ＣＡ" vs "ca" (NFKC), a soft hyphen (mapped to nothing).
        let pairs: &[(&str, &str)] = &[
            ("Straße", "STRASSE"),
            ("Caf\u{e9}", "CAFE\u{301}"),
            ("\u{ff23}\u{ff21}", "ca"),
            ("De\u{ad}vice", "device"),
            ("caf\u{e9} ", "Caf\u{c9}"),
        ];
        for (a, b) in pairs {
            assert_eq!(
                key(&[&[(CN, UTF8, a.as_bytes())]]),
                key(&[&[(CN, UTF8, b.as_bytes())]]),
                "{a:?} vs {b:?}"
            );
        }
        // ISO 8859-1 in a TeletexString equals the same text in UTF-8.
        assert_eq!(
            key(&[&[(CN, TELETEX, b"Caf\xe9")]]),
            key(&[&[(CN, UTF8, "café".as_bytes())]])
        );
    }

    #[test]
    fn different_names_stay_different() {
        let ca = key(&[&[(CN, UTF8, b"Example CA")]]);
        // Another value, another attribute type, another RDN order, an extra RDN.
        assert_ne!(ca, key(&[&[(CN, UTF8, b"Example CA 2")]]));
        assert_ne!(ca, key(&[&[(O, UTF8, b"Example CA")]]));
        assert_ne!(ca, key(&[&[(CN, UTF8, b"ExampleCA")]]));
        let two = key(&[&[(O, UTF8, b"Org")], &[(CN, UTF8, b"CA")]]);
        assert_ne!(two, key(&[&[(CN, UTF8, b"CA")], &[(O, UTF8, b"Org")]]));
        assert_ne!(
            two,
            key(&[
                &[(O, UTF8, b"Org")],
                &[(CN, UTF8, b"CA")],
                &[(C, PRINTABLE, b"US")]
            ])
        );
        // One multi-valued RDN is not two RDNs.
        assert_ne!(two, key(&[&[(O, UTF8, b"Org"), (CN, UTF8, b"CA")]]));
    }

    #[test]
    fn a_multi_valued_rdn_matches_in_any_order() {
        assert_eq!(
            key(&[&[(O, UTF8, b"Org"), (CN, UTF8, b"CA")]]),
            key(&[&[(CN, PRINTABLE, b"ca"), (O, UTF8, b"ORG")]])
        );
    }

    #[test]
    fn spaces_only_and_empty_are_equal() {
        assert_eq!(key(&[&[(CN, UTF8, b"")]]), key(&[&[(CN, UTF8, b"   ")]]));
        assert_eq!(prepare("  "), Some(String::new()));
        assert_eq!(prepare(" a  b "), Some("a b".into()));
        // A space before a combining mark is significant.
        assert_eq!(prepare("a \u{301}b").as_deref(), Some("a \u{301}b"));
    }

    #[test]
    fn unpreparable_values_match_only_their_own_encoding() {
        // U+E000 is private use: prohibited by RFC 4518 §2.4.
        let private = key(&[&[(CN, UTF8, "a\u{e000}".as_bytes())]]);
        assert_eq!(private, key(&[&[(CN, UTF8, "a\u{e000}".as_bytes())]]));
        assert_ne!(private, key(&[&[(CN, UTF8, "A\u{e000}".as_bytes())]]));
        // Not a string type: exact bytes.
        let octets = key(&[&[(CN, 0x04, b"abc")]]);
        assert_ne!(octets, key(&[&[(CN, UTF8, b"abc")]]));
        assert_ne!(octets, key(&[&[(CN, 0x04, b"ABC")]]));
        // A PrintableString holding non-ASCII bytes is not a string: exact bytes.
        assert_ne!(
            key(&[&[(CN, PRINTABLE, b"caf\xc3\xa9")]]),
            key(&[&[(CN, UTF8, "café".as_bytes())]])
        );
    }

    #[test]
    fn malformed_names_keep_their_bytes_and_never_panic() {
        let good = name(&[&[(CN, UTF8, b"CA")]]);
        for cut in 0..good.len() {
            let a = NameKey::of_der(&good[..cut]);
            assert_eq!(a, NameKey::of_der(&good[..cut]));
            assert_ne!(a, NameKey::of_der(&good));
        }
        for bad in [
            &[0x31, 0x00][..],
            &[0x30, 0x00],
            &[0x31, 0x02, 0x05, 0x00],
            &[0xff; 5],
        ] {
            let _ = NameKey::of_contents(bad);
        }
        // The empty name is well-formed: no RDNs.
        assert_eq!(NameKey::of_contents(&[]), NameKey::of_der(&[0x30, 0x00]));
        // Contents and whole DER give the same key.
        assert_eq!(NameKey::of_der(&good), NameKey::of_contents(&good[2..]));
    }
}
