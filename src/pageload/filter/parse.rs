//! The filter's tokenizer and recursive-descent parser (grammar in the parent module's
//! doc). Every error carries the column and width of what it is about.

use std::borrow::Cow;

use regex::Regex;

use super::{proto_name, Cmp, Expr, FilterError, Kind, Test, Val, FIELDS};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`, `~`, `&&`, `||`, `!`.
    Op(&'static str),
    /// A bare word: a field, a keyword, a number with its unit, an unquoted string.
    Word(String),
    Quoted(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    col: usize,
    width: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || "_.-:/#%+@*".contains(c)
}

fn error(text: &str, col: usize, width: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        text: text.to_string(),
        column: col,
        width,
        message: message.into(),
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let tok = if c.is_whitespace() {
            i += 1;
            continue;
        } else if let Some(op) = ["==", "!=", "<=", ">=", "&&", "||"]
            .into_iter()
            .find(|op| *op == two)
        {
            i += 2;
            Tok::Op(op)
        } else if let Some(op) = ["<", ">", "~", "!"]
            .into_iter()
            .find(|op| op.starts_with(c))
        {
            i += 1;
            Tok::Op(op)
        } else if c == '"' {
            let (s, end) = quoted(text, &chars, i)?;
            i = end;
            Tok::Quoted(s)
        } else if is_word_char(c) {
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            Tok::Word(chars[start..i].iter().collect())
        } else {
            i += 1;
            match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                '{' => Tok::LBrace,
                '}' => Tok::RBrace,
                ',' => Tok::Comma,
                '=' => return Err(error(text, start, 1, "`=` is not an operator: write `==`")),
                _ => return Err(error(text, start, 1, format!("unexpected `{c}`"))),
            }
        };
        out.push(Token {
            tok,
            col: start,
            width: i - start,
        });
    }
    Ok(out)
}

/// A double-quoted string from `chars[start]`, with `\"` and `\\` escapes; its text and
/// the index after the closing quote.
fn quoted(text: &str, chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((s, i + 1)),
            '\\' if i + 1 < chars.len() => {
                s.push(chars[i + 1]);
                i += 2;
            }
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(error(
        text,
        start,
        chars.len() - start,
        "this string has no closing quote",
    ))
}

struct Parser<'t> {
    text: &'t str,
    toks: Vec<Token>,
    pos: usize,
}

/// Parses a whole filter.
pub(super) fn parse(text: &str) -> Result<Expr, FilterError> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(error(text, 0, 1, "the filter is empty"));
    }
    let mut p = Parser { text, toks, pos: 0 };
    let e = p.or()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(p.err_at(t, "expected `and`, `or` or the end of the filter")),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn err_at(&self, t: &Token, msg: impl Into<String>) -> FilterError {
        error(self.text, t.col, t.width, msg)
    }

    /// An error just after the last token (the filter ended too soon).
    fn err_end(&self, msg: impl Into<String>) -> FilterError {
        let end = self.text.chars().count();
        error(self.text, end, 1, msg)
    }

    /// Whether the next token is the keyword or operator `a` or `b`; consumes it if so.
    fn eat(&mut self, word: &str, op: &str) -> bool {
        let hit = match self.peek().map(|t| &t.tok) {
            Some(Tok::Word(w)) => w.eq_ignore_ascii_case(word),
            Some(Tok::Op(o)) => *o == op,
            _ => false,
        };
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.and()?;
        while self.eat("or", "||") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.unary()?;
        while self.eat("and", "&&") {
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.eat("not", "!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        let Some(t) = self.next() else {
            return Err(self.err_end("expected a field, `not` or `(`"));
        };
        match &t.tok {
            Tok::LParen => {
                let e = self.or()?;
                match self.next() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => Ok(e),
                    Some(other) => Err(self.err_at(&other, "expected `)`")),
                    None => Err(self.err_at(&t, "this `(` is not closed")),
                }
            }
            Tok::Word(w) => self.test(&t, w),
            _ => Err(self.err_at(&t, "expected a field, `not` or `(`")),
        }
    }

    /// A field and what is asked of it.
    fn test(&mut self, at: &Token, name: &str) -> Result<Expr, FilterError> {
        let Some(&(field, kind)) = FIELDS.iter().find(|(f, _)| *f == name) else {
            let fields: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
            return Err(self.err_at(
                at,
                format!("unknown field `{name}`; fields: {}", fields.join(", ")),
            ));
        };
        let op = match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Op(o)) if !matches!(o, "&&" | "||" | "!") => o.to_string(),
            Some(Tok::Word(w)) => w.to_ascii_lowercase(),
            _ => return Ok(Expr::Test(field, Test::Present)),
        };
        let cmp = match op.as_str() {
            "==" | "eq" => Some(Cmp::Eq),
            "!=" | "ne" => Some(Cmp::Ne),
            "<" | "lt" => Some(Cmp::Lt),
            "<=" | "le" => Some(Cmp::Le),
            ">" | "gt" => Some(Cmp::Gt),
            ">=" | "ge" => Some(Cmp::Ge),
            "~" | "matches" | "contains" | "in" => None,
            _ => return Ok(Expr::Test(field, Test::Present)),
        };
        self.pos += 1;
        let test = match (cmp, op.as_str()) {
            (Some(c), _) => Test::Cmp(c, self.value(field, kind)?),
            (None, "in") => Test::In(self.set(field, kind)?),
            (None, "contains") => Test::Contains(self.text_value(field)?.0),
            (None, _) => {
                let (re, t) = self.text_value(field)?;
                Test::Matches(
                    Regex::new(&re).map_err(|e| self.err_at(&t, format!("not a regex: {e}")))?,
                )
            }
        };
        Ok(Expr::Test(field, test))
    }

    /// A string or word after `~` or `contains`, with its token.
    fn text_value(&mut self, field: &str) -> Result<(String, Token), FilterError> {
        match self.next() {
            Some(t) => match &t.tok {
                Tok::Quoted(s) | Tok::Word(s) => Ok((s.clone(), t.clone())),
                _ => Err(self.err_at(&t, format!("expected a string to test `{field}` with"))),
            },
            None => Err(self.err_end(format!("expected a string to test `{field}` with"))),
        }
    }

    fn value(&mut self, field: &str, kind: Kind) -> Result<Val<'static>, FilterError> {
        let Some(t) = self.next() else {
            return Err(self.err_end(format!("expected {} for `{field}`", kind.what())));
        };
        let raw = match &t.tok {
            Tok::Quoted(s) | Tok::Word(s) => s.clone(),
            _ => return Err(self.err_at(&t, format!("expected {} for `{field}`", kind.what()))),
        };
        literal(&raw, kind, matches!(t.tok, Tok::Quoted(_)))
            .ok_or_else(|| self.err_at(&t, format!("`{field}` takes {}", kind.what())))
    }

    /// `{ v v..w, v }`: values and inclusive ranges.
    #[allow(clippy::type_complexity)]
    fn set(
        &mut self,
        field: &str,
        kind: Kind,
    ) -> Result<Vec<(Val<'static>, Option<Val<'static>>)>, FilterError> {
        match self.next() {
            Some(Token {
                tok: Tok::LBrace, ..
            }) => {}
            Some(t) => return Err(self.err_at(&t, "expected `{` after `in`")),
            None => return Err(self.err_end("expected `{` after `in`")),
        }
        let mut out = Vec::new();
        loop {
            let Some(t) = self.next() else {
                return Err(self.err_end("expected `}`"));
            };
            let bad = |p: &Self| p.err_at(&t, format!("`{field}` takes {}", kind.what()));
            match &t.tok {
                Tok::RBrace if !out.is_empty() => return Ok(out),
                Tok::Comma if !out.is_empty() => {}
                Tok::Word(w) if w.contains("..") => {
                    let (a, b) = w.split_once("..").unwrap_or((w, ""));
                    let lo = literal(a, kind, false).ok_or_else(|| bad(self))?;
                    let hi = literal(b, kind, false).ok_or_else(|| bad(self))?;
                    out.push((lo, Some(hi)));
                }
                Tok::Word(w) | Tok::Quoted(w) => {
                    let v = literal(w, kind, matches!(t.tok, Tok::Quoted(_)));
                    out.push((v.ok_or_else(|| bad(self))?, None));
                }
                _ => return Err(self.err_at(&t, format!("expected {} or `}}`", kind.what()))),
            }
        }
    }
}

/// A literal read as a value of `kind`; `None` when it is not one.
fn literal(raw: &str, kind: Kind, quoted: bool) -> Option<Val<'static>> {
    let owned = |s: &str| Val::Str(Cow::Owned(s.to_string()));
    match kind {
        Kind::Str => Some(owned(raw)),
        Kind::Proto => proto_name(raw).map(owned),
        Kind::Num => raw
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Val::Num),
        Kind::Dur => scaled(raw, DURATIONS).map(Val::Num),
        Kind::Size => scaled(raw, SIZES).map(Val::Num),
        Kind::Bool if !quoted => match raw {
            "true" => Some(Val::Bool(true)),
            "false" => Some(Val::Bool(false)),
            _ => None,
        },
        Kind::Bool => None,
        Kind::Conn => {
            let (quic, id) = match raw.strip_prefix("quic-") {
                Some(id) => (true, id),
                None => (false, raw.strip_prefix('#').unwrap_or(raw)),
            };
            id.parse().ok().map(|id| Val::Conn(quic, id))
        }
    }
}

/// Duration units, in milliseconds (the default).
const DURATIONS: &[(&str, f64)] = &[
    ("", 1.0),
    ("ms", 1.0),
    ("us", 0.001),
    ("µs", 0.001),
    ("s", 1000.0),
];

/// Size units, in bytes (the default).
const SIZES: &[(&str, f64)] = &[
    ("", 1.0),
    ("b", 1.0),
    ("kb", 1e3),
    ("mb", 1e6),
    ("gb", 1e9),
    ("kib", 1024.0),
    ("mib", 1048576.0),
    ("gib", 1073741824.0),
];

/// A number with one of `units` (case-insensitive), times the unit's scale.
fn scaled(raw: &str, units: &[(&str, f64)]) -> Option<f64> {
    let split = raw
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(raw.len());
    let (num, unit) = raw.split_at(split);
    let v: f64 = num.parse().ok().filter(|v: &f64| v.is_finite())?;
    let unit = unit.to_lowercase();
    let (_, scale) = units.iter().find(|(u, _)| *u == unit)?;
    Some(v * scale)
}
