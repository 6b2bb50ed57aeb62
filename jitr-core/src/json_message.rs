//! serde_json's error messages in the terms of the JSON (and of the Python and JavaScript
//! callers), not of the Rust types behind it: `invalid type: string "x", expected i64`
//! reads `invalid type: string "x", expected an integer`.

/// Rust's primitive type names as serde's visitors name them, and what a caller knows
/// them as.
const RUST_TERMS: &[(&str, &str)] = &[
    ("i8", "an integer"),
    ("i16", "an integer"),
    ("i32", "an integer"),
    ("i64", "an integer"),
    ("i128", "an integer"),
    ("isize", "an integer"),
    ("u8", "a non-negative integer"),
    ("u16", "a non-negative integer"),
    ("u32", "a non-negative integer"),
    ("u64", "a non-negative integer"),
    ("u128", "a non-negative integer"),
    ("usize", "a non-negative integer"),
    ("f32", "a number"),
    ("f64", "a number"),
];

/// The message of a serde_json error, with Rust's type names after "expected" replaced by
/// JSON terms. Positions and field names stay.
pub(crate) fn describe(e: &serde_json::Error) -> String {
    let mut message = e.to_string();
    for (rust, json) in RUST_TERMS {
        for end in [",", " ", ""] {
            let needle = format!("expected {rust}{end}");
            if end.is_empty() && !message.ends_with(&needle) {
                continue;
            }
            message = message.replace(&needle, &format!("expected {json}{end}"));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn rust_type_names_become_json_terms() {
        let err = serde_json::from_str::<i64>("\"x\"").unwrap_err();
        assert_eq!(
            describe(&err),
            "invalid type: string \"x\", expected an integer at line 1 column 3"
        );
        let err = serde_json::from_str::<usize>("-1").unwrap_err();
        assert!(
            describe(&err).contains("expected a non-negative integer"),
            "{}",
            describe(&err)
        );
        let err = serde_json::from_str::<(u8, u8)>("[1]").unwrap_err();
        assert!(!describe(&err).contains("u8"), "{}", describe(&err));
        // Nothing else changes.
        let err = serde_json::from_str::<String>("5").unwrap_err();
        assert_eq!(describe(&err), err.to_string());
    }
}
