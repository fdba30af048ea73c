//! A small EDN reader (maps, vectors, lists, sets, keywords, symbols, strings, integers, nil,
//! booleans: what Jepsen histories use) and the Jepsen history on top of it.
//!
//! A set `#{1 2 3}` (how Jepsen's set-full workload writes its reads) becomes a history list
//! with its elements sorted and deduplicated, so checkers that take a list of elements accept
//! it and two reads of the same set compare equal whatever order the file lists them in. Other
//! `#` dispatch forms (tags such as `#inst`, `#_` discards, `##Inf`) are refused where they
//! start.
//!
//! A Jepsen history is either one vector or list of op maps, or op maps one after another (one a
//! line, as Porcupine's kv files are). `:fail` ops are kept with status `Fail` (the checker drops
//! them), `:info` ops stay pending forever, and `:nemesis` ops are skipped.

use super::{Builder, Completion, History, Loc, ParseError, Status, Value};

/// Nesting deeper than this is refused: the reader is recursive.
const MAX_DEPTH: usize = 64;

/// One EDN form and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub loc: Loc,
    pub edn: Edn,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    Keyword(String),
    Symbol(String),
    Vector(Vec<Form>),
    List(Vec<Form>),
    /// As written: duplicates and order are dealt with by [`to_value`].
    Set(Vec<Form>),
    Map(Vec<(Form, Form)>),
}

/// Reads EDN text character by character, tracking line and column.
pub struct Reader<'a> {
    path: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    column: usize,
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
        )
}

impl<'a> Reader<'a> {
    /// `line` and `column` say where `text` starts in its file.
    pub fn new(path: &'a str, text: &'a str, line: usize, column: usize) -> Reader<'a> {
        Reader {
            path,
            bytes: text.as_bytes(),
            pos: 0,
            line,
            column,
        }
    }

    pub fn loc(&self) -> Loc {
        Loc {
            line: self.line,
            column: self.column,
        }
    }

    fn error(&self, loc: Loc, message: impl Into<String>) -> ParseError {
        ParseError {
            path: self.path.to_string(),
            line: loc.line,
            column: loc.column,
            message: message.into(),
        }
    }

    fn bump(&mut self) {
        if self.bytes[self.pos] == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if self.bytes[self.pos] & 0xC0 != 0x80 {
            self.column += 1;
        }
        self.pos += 1;
    }

    /// Skips whitespace, commas and `;` comments.
    fn skip_blank(&mut self) {
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b';' => {
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.bump();
                    }
                }
                b if b.is_ascii_whitespace() || b == b',' => self.bump(),
                _ => return,
            }
        }
    }

    /// Whether only blanks remain.
    pub fn at_end(&mut self) -> bool {
        self.skip_blank();
        self.pos >= self.bytes.len()
    }

    /// Reads the next form; the caller has checked `at_end` is false.
    pub fn read(&mut self) -> Result<Form, ParseError> {
        self.read_depth(0)
    }

    fn read_depth(&mut self, depth: usize) -> Result<Form, ParseError> {
        self.skip_blank();
        let loc = self.loc();
        if depth > MAX_DEPTH {
            return Err(self.error(loc, format!("nested deeper than {MAX_DEPTH}")));
        }
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err(self.error(loc, "unexpected end of input"));
        };
        let edn = match b {
            b'[' => Edn::Vector(self.read_seq("[", b']', depth)?),
            b'(' => Edn::List(self.read_seq("(", b')', depth)?),
            b'#' => self.read_dispatch(loc, depth)?,
            b'{' => {
                let items = self.read_seq("{", b'}', depth)?;
                if items.len() % 2 != 0 {
                    return Err(self.error(loc, "a map needs an even number of forms"));
                }
                let mut pairs = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Edn::Map(pairs)
            }
            b'"' => Edn::Str(self.read_string()?),
            b')' | b']' | b'}' => {
                return Err(self.error(loc, format!("unexpected `{}`", b as char)));
            }
            _ => self.read_atom(loc)?,
        };
        Ok(Form { loc, edn })
    }

    /// Reads the forms between `opener` (at the current position) and `close`.
    fn read_seq(&mut self, opener: &str, close: u8, depth: usize) -> Result<Vec<Form>, ParseError> {
        let open = self.loc();
        for _ in 0..opener.len() {
            self.bump();
        }
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.bytes.get(self.pos) {
                None => {
                    return Err(self.error(open, format!("`{opener}` is never closed")));
                }
                Some(&b) if b == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => items.push(self.read_depth(depth + 1)?),
            }
        }
    }

    /// A form starting with `#`: a set, or a located refusal naming the dispatch form.
    fn read_dispatch(&mut self, loc: Loc, depth: usize) -> Result<Edn, ParseError> {
        if self.bytes.get(self.pos + 1) == Some(&b'{') {
            return Ok(Edn::Set(self.read_seq("#{", b'}', depth)?));
        }
        let start = self.pos;
        self.bump();
        while self.pos < self.bytes.len() && !is_delimiter(self.bytes[self.pos]) {
            self.bump();
        }
        let token = String::from_utf8_lossy(&self.bytes[start..self.pos]);
        Err(self.error(
            loc,
            format!("unsupported EDN `{token}` (of the `#` forms, only sets `#{{...}}` are read)"),
        ))
    }

    fn read_string(&mut self) -> Result<String, ParseError> {
        let open = self.loc();
        self.bump();
        let mut out = Vec::new();
        while let Some(&b) = self.bytes.get(self.pos) {
            self.bump();
            match b {
                b'"' => {
                    return String::from_utf8(out).map_err(|_| self.error(open, "invalid UTF-8"));
                }
                b'\\' => {
                    let Some(&e) = self.bytes.get(self.pos) else {
                        break;
                    };
                    self.bump();
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'"' | b'\\' => e,
                        _ => {
                            return Err(
                                self.error(open, format!("unknown escape `\\{}`", e as char))
                            );
                        }
                    });
                }
                _ => out.push(b),
            }
        }
        Err(self.error(open, "string is never closed"))
    }

    fn read_atom(&mut self, loc: Loc) -> Result<Edn, ParseError> {
        let start = self.pos;
        while self.pos < self.bytes.len() && !is_delimiter(self.bytes[self.pos]) {
            self.bump();
        }
        let token = std::str::from_utf8(&self.bytes[start..self.pos])
            .map_err(|_| self.error(loc, "invalid UTF-8"))?;
        Ok(match token {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ if token.starts_with(':') && token.len() > 1 => Edn::Keyword(token[1..].to_string()),
            _ if token.starts_with(|c: char| c.is_ascii_digit())
                || (token.len() > 1 && token.starts_with(['-', '+'])) =>
            {
                let digits = token.strip_suffix('N').unwrap_or(token);
                Edn::Int(digits.parse().map_err(|_| {
                    self.error(
                        loc,
                        format!("`{token}` is not an integer (only integers are supported)"),
                    )
                })?)
            }
            _ if !token.is_empty() => Edn::Symbol(token.to_string()),
            _ => return Err(self.error(loc, format!("unsupported EDN `{token}`"))),
        })
    }
}

/// The EDN value of an op's `:value` or `:key` as a history value.
pub fn to_value(form: &Form) -> Value {
    match &form.edn {
        Edn::Nil => Value::Nil,
        Edn::Bool(b) => Value::Bool(*b),
        Edn::Int(i) => Value::Int(*i),
        Edn::Str(s) | Edn::Keyword(s) | Edn::Symbol(s) => Value::Str(s.clone()),
        Edn::Vector(items) | Edn::List(items) => Value::List(items.iter().map(to_value).collect()),
        Edn::Set(items) => {
            let mut values: Vec<Value> = items.iter().map(to_value).collect();
            values.sort();
            values.dedup();
            Value::List(values)
        }
        Edn::Map(_) => Value::Str(format!("{:?}", form.edn)),
    }
}

/// Parses a Jepsen EDN history.
pub fn parse_history(path: &str, text: &str) -> Result<History, ParseError> {
    let mut reader = Reader::new(path, text, 1, 1);
    let mut forms = Vec::new();
    while !reader.at_end() {
        forms.push(reader.read()?);
    }
    // One vector or list holding the ops, or the ops one after another.
    if let [only] = forms.as_slice()
        && let Edn::Vector(items) | Edn::List(items) = &only.edn
    {
        forms = items.clone();
    }
    let mut builder = Builder::new(path);
    for form in &forms {
        add_op(&mut builder, form)?;
    }
    Ok(builder.finish())
}

fn field<'f>(pairs: &'f [(Form, Form)], name: &str) -> Option<&'f Form> {
    pairs
        .iter()
        .find(|(k, _)| matches!(&k.edn, Edn::Keyword(s) if s == name))
        .map(|(_, v)| v)
}

fn keyword<'f>(
    b: &Builder,
    pairs: &'f [(Form, Form)],
    name: &str,
    at: Loc,
) -> Result<&'f str, ParseError> {
    match field(pairs, name) {
        Some(Form {
            edn: Edn::Keyword(s),
            ..
        }) => Ok(s),
        Some(Form {
            edn: Edn::Str(s), ..
        }) if name == "f" => Ok(s),
        Some(other) => Err(b.error(other.loc, format!(":{name} must be a keyword"))),
        None => Err(b.error(at, format!("op map has no :{name}"))),
    }
}

fn add_op(b: &mut Builder, form: &Form) -> Result<(), ParseError> {
    let Edn::Map(pairs) = &form.edn else {
        return Err(b.error(
            form.loc,
            "expected an op map {:process .., :type .., :f .., :value ..}",
        ));
    };
    let process = match field(pairs, "process") {
        Some(Form {
            edn: Edn::Int(p), ..
        }) if *p >= 0 => *p as u64,
        Some(Form {
            edn: Edn::Keyword(k),
            ..
        }) if k == "nemesis" => {
            b.skip();
            return Ok(());
        }
        Some(other) => {
            return Err(b.error(
                other.loc,
                ":process must be a non-negative integer or :nemesis",
            ));
        }
        None => return Err(b.error(form.loc, "op map has no :process")),
    };
    let kind = keyword(b, pairs, "type", form.loc)?;
    let f = keyword(b, pairs, "f", form.loc)?;
    let value = field(pairs, "value").map(to_value).unwrap_or(Value::Nil);
    let key = field(pairs, "key").map(|k| match to_value(k) {
        Value::Str(s) => s,
        other => other.to_string(),
    });
    // Jepsen numbers a history's events; Knossos names an op by its completion's number.
    let index = match field(pairs, "index") {
        Some(Form {
            edn: Edn::Int(i), ..
        }) if *i >= 0 => Some(*i as u64),
        Some(other) => {
            return Err(b.error(other.loc, ":index must be a non-negative integer"));
        }
        None => None,
    };
    if kind == "invoke" {
        b.invoke(form.loc, process, f, key, value)?;
        if let Some(i) = index {
            b.jepsen_index(process, i);
        }
        return Ok(());
    }
    if let Some(i) = index {
        b.jepsen_index(process, i);
    }
    let status = match kind {
        "ok" => Status::Ok,
        "fail" => Status::Fail,
        "info" => Status::Info,
        other => {
            let at = field(pairs, "type").map_or(form.loc, |t| t.loc);
            return Err(b.error(
                at,
                format!("unknown :type :{other} (expected :invoke, :ok, :fail or :info)"),
            ));
        }
    };
    let done = Completion::read(f, status, value);
    b.complete(form.loc, process, f, done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Result<Vec<Edn>, ParseError> {
        let mut r = Reader::new("t.edn", text, 1, 1);
        let mut out = Vec::new();
        while !r.at_end() {
            out.push(r.read()?.edn);
        }
        Ok(out)
    }

    #[test]
    fn atoms_and_collections() {
        let forms = read_all(
            "nil true false -12 +3 7N :ok sym \"a\\\"b\\n\" ; comment\n[1, (2)] {:k \"v\"}",
        )
        .unwrap();
        assert_eq!(
            forms[..5],
            [
                Edn::Nil,
                Edn::Bool(true),
                Edn::Bool(false),
                Edn::Int(-12),
                Edn::Int(3)
            ]
        );
        assert_eq!(forms[5], Edn::Int(7));
        assert_eq!(forms[6], Edn::Keyword("ok".into()));
        assert_eq!(forms[7], Edn::Symbol("sym".into()));
        assert_eq!(forms[8], Edn::Str("a\"b\n".into()));
        let Edn::Vector(items) = &forms[9] else {
            panic!("a vector")
        };
        assert_eq!(items[1].loc, Loc { line: 2, column: 5 });
        assert!(matches!(&forms[10], Edn::Map(pairs) if pairs.len() == 1));
    }

    #[test]
    fn errors_are_located() {
        let e = read_all("[1 2\n  {:a}]").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.message.contains("even number"), "{e}");
        let e = read_all("\n  \"open").unwrap_err();
        assert_eq!(e.to_string(), "t.edn:2:3: string is never closed");
        let e = read_all("(1 2").unwrap_err();
        assert_eq!(e.to_string(), "t.edn:1:1: `(` is never closed");
    }

    fn set_value(text: &str) -> Value {
        let mut r = Reader::new("t.edn", text, 1, 1);
        let value = to_value(&r.read().unwrap());
        assert!(r.at_end(), "one form in {text:?}");
        value
    }

    #[test]
    fn sets_read_as_sorted_deduplicated_lists() {
        use Value::{Int, List, Nil, Str};
        assert_eq!(set_value("#{3 1 2}"), List(vec![Int(1), Int(2), Int(3)]));
        assert_eq!(set_value("#{}"), List(vec![]));
        assert_eq!(set_value("#{ , }"), List(vec![]));
        assert_eq!(set_value("#{2 1 2 1}"), List(vec![Int(1), Int(2)]));
        assert_eq!(
            set_value("#{:b \"a\" nil \"b\"}"),
            List(vec![Nil, Str("a".into()), Str("b".into())]),
            "a keyword and a string of one name are one history value"
        );
        let nested = set_value("[#{2 #{1}} (#{})]");
        assert_eq!(
            nested,
            List(vec![
                List(vec![Int(2), List(vec![Int(1)])]),
                List(vec![List(vec![])]),
            ])
        );
        // `#` only dispatches at the start of a form.
        assert_eq!(read_all("a#b").unwrap(), [Edn::Symbol("a#b".into())]);
    }

    #[test]
    fn set_forms_keep_their_locations() {
        let forms = read_all("\n  #{1\n 2}").unwrap();
        let Edn::Set(items) = &forms[0] else {
            panic!("a set: {forms:?}")
        };
        assert_eq!(items[0].loc, Loc { line: 2, column: 5 });
        assert_eq!(items[1].loc, Loc { line: 3, column: 2 });
    }

    #[test]
    fn set_errors_are_located() {
        let e = read_all("[1\n #{1 2").unwrap_err();
        assert_eq!(e.to_string(), "t.edn:2:2: `#{` is never closed");
        let e = read_all("#{1 2.5}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.edn:1:5: `2.5` is not an integer (only integers are supported)"
        );
        let e = read_all("#{1 ]").unwrap_err();
        assert_eq!(e.to_string(), "t.edn:1:5: unexpected `]`");
        let e = read_all("#{1\n  \"open}").unwrap_err();
        assert_eq!(e.to_string(), "t.edn:2:3: string is never closed");
        let deep = format!(
            "{}{}",
            "#{".repeat(MAX_DEPTH + 2),
            "}".repeat(MAX_DEPTH + 2)
        );
        assert!(
            read_all(&deep)
                .unwrap_err()
                .message
                .contains("nested deeper")
        );
    }

    #[test]
    fn other_dispatch_forms_are_refused_where_they_start() {
        for (text, form, column) in [
            ("[1 #inst \"2024-01-01\"]", "#inst", 4),
            ("#_ 1", "#_", 1),
            ("  ##Inf", "##Inf", 3),
            ("{:a #jepsen.history.Op{:f :read}}", "#jepsen.history.Op", 5),
            ("#", "#", 1),
        ] {
            let e = read_all(text).unwrap_err();
            assert_eq!((e.line, e.column), (1, column), "{text}: {e}");
            assert!(
                e.message.starts_with(&format!("unsupported EDN `{form}`"))
                    && e.message.contains("only sets"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn set_reads_in_a_history() {
        let text = "[{:process 0, :type :invoke, :f :read, :value nil}\n\
                     {:process 0, :type :ok, :f :read, :value #{3 1 3}}]";
        let h = parse_history("h.edn", text).unwrap();
        assert_eq!(
            h.ops[0].output,
            Value::List(vec![Value::Int(1), Value::Int(3)])
        );
        let e = parse_history("h.edn", "{:process 0, :type :ok, :value #{1 #{}").unwrap_err();
        assert_eq!(e.to_string(), "h.edn:1:32: `#{` is never closed");
    }

    #[test]
    fn history_rules() {
        let text = "{:process 0, :type :invoke, :f :write, :value 1}\n\
                    {:process :nemesis, :type :info, :f :kill}\n\
                    {:process 0, :type :fail, :f :write, :value 1}\n\
                    {:process 1, :type :invoke, :f :read, :value nil}\n";
        let h = parse_history("h.edn", text).unwrap();
        assert_eq!(h.events, 4);
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[0].status, Status::Fail);
        assert_eq!(
            h.ops[1].status,
            Status::Info,
            "never completed: pending forever"
        );
        assert_eq!(h.ops[1].invoke_index, 3);
        let e = parse_history("h.edn", "{:process 0, :type :ok, :f :read}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "h.edn:1:1: process 0 completes an operation it never invoked"
        );
    }
}
