//! How a string is written into a YAML file, and what a plain scalar means.
//!
//! The readers disagree: aider's PyYAML is YAML 1.1 (`yes`, `on`, `y` are booleans,
//! `1_000` and `12:30` are numbers), Continue's `yaml` package and Goose's serde_yaml
//! are YAML 1.2. A value is written plain only when it is the same string under both;
//! anything else is double-quoted, with escapes every reader decodes alike.

/// The text for `value`: plain when unambiguous, otherwise a double-quoted string.
/// `flow` says the value sits inside `[…]` or `{…}`, where `,` and `:` are indicators.
pub(super) fn render(value: &str, flow: bool) -> String {
    if plain_is_safe(value, flow) {
        value.to_string()
    } else {
        double_quoted(value)
    }
}

/// Punctuation allowed in a plain scalar after its first letter: none of it starts a
/// comment, a flow collection, a quoted string or a block scalar there.
const PLAIN_PUNCTUATION: &str = " -._/:@%+=~?&$();";

/// Whether `value` written plain reads back as this same string in YAML 1.1 and 1.2,
/// in block context (and in flow context when `flow`).
pub(super) fn plain_is_safe(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    // A first letter rules out every indicator (`-`, `?`, `&`, `*`, `!`, `|`, `'`, …)
    // and every number, date and `.inf`.
    first.is_ascii_alphabetic()
        && !value.ends_with([' ', ':'])
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || PLAIN_PUNCTUATION.contains(c))
        && !value.contains(": ")
        // Older PyYAML ends a plain scalar at any `:` inside a flow collection.
        && !(flow && value.contains(':'))
        && non_string(value).is_none()
}

/// A YAML double-quoted string: `"` and `\` escaped, and every character a reader
/// might not accept raw (controls, line separators, a BOM) as an escape.
pub(super) fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// The characters YAML 1.1 (PyYAML's reader) accepts in a stream, less the line breaks
/// and the BOM, which would change a one-line value.
fn printable(c: char) -> bool {
    matches!(c,
        '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// What a plain scalar is, when some YAML 1.1 or 1.2 reader takes it as something other
/// than a string: "null", "a boolean", "a number" or "a date". Errs on the side of "not
/// a string" (the editor refuses those), never the other way.
pub(super) fn non_string(plain: &str) -> Option<&'static str> {
    match plain {
        "" | "~" | "null" | "Null" | "NULL" => return Some("null"),
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "yes" | "Yes" | "YES" | "no"
        | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF" | "y" | "Y" | "n" | "N" => {
            return Some("a boolean");
        }
        _ => {}
    }
    if is_number(plain) {
        Some("a number")
    } else if is_date(plain) {
        Some("a date")
    } else {
        None
    }
}

/// Integers and floats of YAML 1.2's core schema and of YAML 1.1 (underscores, `0b`,
/// sexagesimal `1:30`, `.inf`, `.nan`).
fn is_number(plain: &str) -> bool {
    if matches!(plain, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let unsigned = plain.strip_prefix(['+', '-']).unwrap_or(plain);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let all = |s: &str, f: fn(char) -> bool| !s.is_empty() && s.chars().all(f);
    for (radix_prefix, digit) in [
        (
            "0x",
            (|c: char| c.is_ascii_hexdigit() || c == '_') as fn(char) -> bool,
        ),
        ("0o", |c| matches!(c, '0'..='7' | '_')),
        ("0b", |c| matches!(c, '0' | '1' | '_')),
    ] {
        if let Some(digits) = unsigned.strip_prefix(radix_prefix) {
            return all(digits, digit);
        }
    }
    if unsigned.contains(':') {
        // Sexagesimal (YAML 1.1): `190:20:30`, `1:30.5`.
        return unsigned.starts_with(|c: char| c.is_ascii_digit())
            && unsigned
                .split(':')
                .all(|part| all(part, |c: char| c.is_ascii_digit() || c == '_' || c == '.'));
    }
    // Decimal: digits (with `_`), an optional fraction, an optional exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '_');
    let has_digit = whole
        .chars()
        .chain(fraction.unwrap_or("").chars())
        .any(|c| c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    has_digit && digits(whole) && fraction.is_none_or(digits) && exponent_ok
}

/// YAML 1.1 timestamps start with a `yyyy-m-d` date.
fn is_date(plain: &str) -> bool {
    let mut parts = plain.splitn(3, '-');
    let (Some(year), Some(month), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let day: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after_day = &rest[day.len()..];
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
    };
    digits(year, 4..=4)
        && digits(month, 1..=2)
        && digits(&day, 1..=2)
        && (after_day.is_empty() || after_day.starts_with(['T', 't', ' ', '\t']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_names_stay_plain() {
        for value in [
            "http://127.0.0.1:18787/v1",
            "https://gw.example:8787/v1?x=1&y=2",
            "ANTHROPIC_API_BASE=http://gw",
            "Anyray gateway",
            "openai/gpt-4o-mini",
            "anyray",
        ] {
            assert_eq!(render(value, false), value);
        }
    }

    #[test]
    fn ambiguous_values_are_double_quoted() {
        for (value, written) in [
            ("", "\"\""),
            ("yes", "\"yes\""),
            ("on", "\"on\""),
            ("N", "\"N\""),
            ("null", "\"null\""),
            ("1.0.0", "\"1.0.0\""),
            ("0x1F", "\"0x1F\""),
            ("a: b", "\"a: b\""),
            ("a #b", "\"a #b\""),
            ("a,b", "\"a,b\""),
            ("-x", "\"-x\""),
            ("*x", "\"*x\""),
            ("x:", "\"x:\""),
            (" x", "\" x\""),
            (
                "${{ secrets.ANYRAY_TOKEN }}",
                "\"${{ secrets.ANYRAY_TOKEN }}\"",
            ),
            ("q\"\\", "\"q\\\"\\\\\""),
            ("tab\there\nline", "\"tab\\there\\nline\""),
            (
                "bell\u{7}\u{85}\u{2028}\u{feff}",
                "\"bell\\x07\\x85\\u2028\\ufeff\"",
            ),
            ("ünï☃", "\"ünï☃\""),
        ] {
            assert_eq!(render(value, false), written, "{value:?}");
        }
        // In a flow collection a `:` is quoted too.
        assert_eq!(render("http://gw", true), "\"http://gw\"");
        assert_eq!(render("gw", true), "gw");
    }

    #[test]
    fn plain_scalars_that_are_not_strings() {
        for (plain, kind) in [
            ("", "null"),
            ("~", "null"),
            ("Off", "a boolean"),
            ("y", "a boolean"),
            ("42", "a number"),
            ("-1_000", "a number"),
            ("0b1010", "a number"),
            ("0o17", "a number"),
            ("1.5e+3", "a number"),
            (".5", "a number"),
            ("5.", "a number"),
            ("-.inf", "a number"),
            (".NaN", "a number"),
            ("12:30", "a number"),
            ("2001-12-14", "a date"),
            ("2001-12-14t21:59:43.10-05:00", "a date"),
            ("2001-12-14 21:59:43.10 -5", "a date"),
        ] {
            assert_eq!(non_string(plain), Some(kind), "{plain:?}");
        }
        for plain in [
            "1.0.0",
            "openai",
            "http://x:1",
            "e5",
            ".",
            "1e",
            "0x",
            "2001-12",
            "12:x",
            "yes please",
            "2001-12-14x",
        ] {
            assert_eq!(non_string(plain), None, "{plain:?}");
        }
    }
}
