//! HL7 v2 escape sequences (HL7 v2.5.1 Chapter 2, §2.7 "Use of escape sequences in text fields").
//!
//! Text that contains one of the message's delimiters must be written as an
//! escape sequence: `\F\` field, `\S\` component, `\T\` sub-component,
//! `\R\` repetition, `\E\` escape, and `\Xhh..\` for hexadecimal data.
//! Sequences this codec does not interpret (`\H\`, `\N\`, `\.br\`, `\Zxx\`,
//! `\Cxxyy\`, `\Mxxyyzz\`) are passed through unchanged when unescaping.

use std::borrow::Cow;

/// The five delimiters declared by MSH-1 and MSH-2 (or FHS/BHS-1 and -2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Delimiters {
    /// The delimiters the CDC IG requires: `|^~\&` (IG R1.5 §6.1, MSH-1/MSH-2).
    fn default() -> Self {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
        }
    }
}

impl Delimiters {
    /// MSH-2 as written: component, repetition, escape, sub-component.
    pub fn encoding_characters(&self) -> String {
        [
            self.component,
            self.repetition,
            self.escape,
            self.subcomponent,
        ]
        .iter()
        .collect()
    }

    fn is_special(&self, c: char) -> bool {
        c == self.field
            || c == self.component
            || c == self.repetition
            || c == self.escape
            || c == self.subcomponent
            || c == '\r'
            || c == '\n'
    }
}

/// Replaces escape sequences in `raw` with the text they stand for.
///
/// Borrows when `raw` holds no escape character. An unterminated escape
/// sequence, an unknown one, or `\X..\` data that is not valid UTF-8 is kept
/// verbatim: a robust reader keeps what it cannot interpret.
pub fn unescape<'a>(raw: &'a str, d: &Delimiters) -> Cow<'a, str> {
    if !raw.contains(d.escape) {
        return Cow::Borrowed(raw);
    }
    let esc = d.escape;
    let esc_len = esc.len_utf8();
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(esc) {
        out.push_str(&rest[..start]);
        let after = &rest[start + esc_len..];
        let Some(end) = after.find(esc) else {
            // Unterminated: keep the escape character and the rest literally.
            out.push_str(&rest[start..]);
            return Cow::Owned(out);
        };
        let body = &after[..end];
        match decode_sequence(body, d) {
            Some(Decoded::Char(c)) => out.push(c),
            Some(Decoded::Text(t)) => out.push_str(&t),
            None => out.push_str(&rest[start..start + esc_len + end + esc_len]),
        }
        rest = &after[end + esc_len..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

enum Decoded {
    Char(char),
    Text(String),
}

fn decode_sequence(body: &str, d: &Delimiters) -> Option<Decoded> {
    match body {
        "F" => Some(Decoded::Char(d.field)),
        "S" => Some(Decoded::Char(d.component)),
        "T" => Some(Decoded::Char(d.subcomponent)),
        "R" => Some(Decoded::Char(d.repetition)),
        "E" => Some(Decoded::Char(d.escape)),
        _ => {
            let hex = body.strip_prefix('X')?;
            decode_hex(hex).map(Decoded::Text)
        }
    }
}

fn decode_hex(hex: &str) -> Option<String> {
    if hex.is_empty() || hex.len() & 1 == 1 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Writes `text` so that it can stand as one sub-component value: every
/// delimiter becomes its escape sequence, and CR/LF (which would end the
/// segment) become `\X0D\` / `\X0A\`.
pub fn escape<'a>(text: &'a str, d: &Delimiters) -> Cow<'a, str> {
    if !text.chars().any(|c| d.is_special(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        let code = if c == d.escape {
            "E"
        } else if c == d.field {
            "F"
        } else if c == d.component {
            "S"
        } else if c == d.subcomponent {
            "T"
        } else if c == d.repetition {
            "R"
        } else if c == '\r' {
            "X0D"
        } else if c == '\n' {
            "X0A"
        } else {
            out.push(c);
            continue;
        };
        out.push(d.escape);
        out.push_str(code);
        out.push(d.escape);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_sequences() {
        let d = Delimiters::default();
        assert_eq!(unescape(r"Deployed \T\ mission", &d), "Deployed & mission");
        assert_eq!(unescape(r"a\F\b\S\c\R\d\E\e", &d), r"a|b^c~d\e");
        assert_eq!(unescape(r"line\X0D0A\end", &d), "line\r\nend");
    }

    #[test]
    fn unknown_and_broken_sequences_pass_through() {
        let d = Delimiters::default();
        assert_eq!(unescape(r"\H\bold\N\", &d), r"\H\bold\N\");
        assert_eq!(unescape(r"a\.br\b", &d), r"a\.br\b");
        assert_eq!(unescape(r"trailing\F", &d), r"trailing\F");
        assert_eq!(unescape(r"\XZZ\", &d), r"\XZZ\");
        assert_eq!(unescape(r"\XFF\", &d), r"\XFF\");
    }

    #[test]
    fn escape_then_unescape_is_identity() {
        let d = Delimiters::default();
        let text = "A|B^C~D\\E&F\rG\nH";
        let escaped = escape(text, &d);
        assert_eq!(escaped, r"A\F\B\S\C\R\D\E\E\T\F\X0D\G\X0A\H");
        assert_eq!(unescape(&escaped, &d), text);
        assert!(matches!(escape("plain", &d), Cow::Borrowed(_)));
    }

    #[test]
    fn custom_delimiters() {
        let d = Delimiters {
            field: '#',
            component: '!',
            repetition: '*',
            escape: '$',
            subcomponent: '%',
        };
        assert_eq!(escape("a#b!c$", &d), "a$F$b$S$c$E$");
        assert_eq!(unescape("a$F$b$S$c$E$", &d), "a#b!c$");
    }
}
