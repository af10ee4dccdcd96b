//! Reading an expression: tokens, then recursive descent with one function
//! per precedence level, loosest first:
//!
//! ```text
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | compare
//! compare := sum (("=" | "<>" | "!=" | ">" | ">=" | "<" | "<=") sum)?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | power
//! power   := primary ("^" unary)?
//! primary := number | string | "true" | "false" | "[" field "]"
//!          | "[" field "(" code ")" "]" | name "(" or ("," or)* ")" | "(" or ")"
//! ```

use super::{
    Arithmetic, Comparison, ExprError, ExprErrorKind, Fields, Function, Kind, MAX_DEPTH,
    MAX_SOURCE, Node,
};

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    /// `[name]` or `[name(code)]`.
    Ref(String, Option<String>),
    Name(String),
    Symbol(&'static str),
    End,
}

/// A token and the 1-based column it starts at.
type Located = (Token, usize);

fn error(column: usize, kind: ExprErrorKind, message: impl Into<String>) -> ExprError {
    ExprError {
        column,
        message: message.into(),
        kind,
    }
}

/// Splits `source` into tokens.
fn tokens(source: &str) -> Result<Vec<Located>, ExprError> {
    if source.len() > MAX_SOURCE {
        return Err(error(
            1,
            ExprErrorKind::TooLarge,
            format!("longer than {MAX_SOURCE} bytes"),
        ));
    }
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = match c {
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or_else(|| error(column, ExprErrorKind::Syntax, "`[` without `]`"))?;
                let inner: String = chars[i + 1..i + close].iter().collect();
                i += close + 1;
                if chars.get(i) == Some(&'[') {
                    return Err(error(
                        column,
                        ExprErrorKind::Unsupported,
                        format!("`[{inner}][...]`: event-prefixed fields are not evaluated"),
                    ));
                }
                reference(&inner, column)?
            }
            '\'' | '"' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .ok_or_else(|| error(column, ExprErrorKind::Syntax, "unclosed quote"))?;
                let text: String = chars[i + 1..i + 1 + close].iter().collect();
                i += close + 2;
                Token::Text(text)
            }
            '0'..='9' | '.' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let number = text.parse::<f64>().map_err(|_| {
                    error(
                        column,
                        ExprErrorKind::Syntax,
                        format!("`{text}` is not a number"),
                    )
                })?;
                Token::Number(number)
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                Token::Name(chars[start..i].iter().collect())
            }
            _ => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let symbol = ["<>", "!=", ">=", "<="]
                    .into_iter()
                    .find(|s| *s == two)
                    .or_else(|| {
                        ["=", ">", "<", "+", "-", "*", "/", "^", "(", ")", ","]
                            .into_iter()
                            .find(|s| s.starts_with(c))
                    })
                    .ok_or_else(|| {
                        error(column, ExprErrorKind::Syntax, format!("unexpected `{c}`"))
                    })?;
                i += symbol.len();
                Token::Symbol(symbol)
            }
        };
        out.push((token, column));
    }
    out.push((Token::End, chars.len() + 1));
    Ok(out)
}

/// The inside of `[...]`: a field, or a field and a choice code.
fn reference(inner: &str, column: usize) -> Result<Token, ExprError> {
    let name_ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    let (name, code) = match inner.split_once('(') {
        Some((name, rest)) => match rest.strip_suffix(')') {
            Some(code) => (name, Some(code)),
            None => {
                return Err(error(
                    column,
                    ExprErrorKind::Syntax,
                    format!("`[{inner}]`: a choice is written `[field(code)]`"),
                ));
            }
        },
        None => (inner, None),
    };
    let name = name.trim();
    if !name_ok(name) {
        // `[event-name]`, `[record-dag-name]`, `[field:value]`, ...
        return Err(error(
            column,
            ExprErrorKind::Unsupported,
            format!("`[{inner}]`: smart variables are not evaluated"),
        ));
    }
    Ok(Token::Ref(
        name.to_owned(),
        code.map(|c| c.trim().trim_matches(['\'', '"']).to_owned()),
    ))
}

struct Parser<'f> {
    tokens: Vec<Located>,
    at: usize,
    depth: usize,
    fields: &'f dyn Fields,
}

/// Parses and resolves `source`.
pub(super) fn parse(source: &str, fields: &dyn Fields) -> Result<Node, ExprError> {
    let mut parser = Parser {
        tokens: tokens(source)?,
        at: 0,
        depth: 0,
        fields,
    };
    if parser.peek() == &Token::End {
        return Err(error(1, ExprErrorKind::Syntax, "the expression is empty"));
    }
    let node = parser.or()?;
    match parser.peek() {
        Token::End => Ok(node),
        _ => Err(parser.unexpected()),
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].0
    }

    fn column(&self) -> usize {
        self.tokens[self.at].1
    }

    fn next(&mut self) -> Located {
        let token = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn unexpected(&self) -> ExprError {
        let what = match self.peek() {
            Token::End => {
                return error(
                    self.column(),
                    ExprErrorKind::Syntax,
                    "the expression ends too soon",
                );
            }
            Token::Symbol(s) => format!("`{s}`"),
            Token::Name(n) => format!("`{n}`"),
            Token::Number(_) => "a number".to_owned(),
            Token::Text(t) => format!("'{t}'"),
            Token::Ref(name, _) => format!("`[{name}]`"),
        };
        error(
            self.column(),
            ExprErrorKind::Syntax,
            format!("unexpected {what}"),
        )
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Token::Name(n) if n.eq_ignore_ascii_case(word))
    }

    fn symbol(&self, symbol: &str) -> bool {
        matches!(self.peek(), Token::Symbol(s) if *s == symbol)
    }

    fn expect(&mut self, symbol: &str) -> Result<(), ExprError> {
        if self.symbol(symbol) {
            self.next();
            Ok(())
        } else {
            Err(error(
                self.column(),
                ExprErrorKind::Syntax,
                format!("expected `{symbol}`"),
            ))
        }
    }

    /// Enters one level of nesting.
    fn deeper(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(error(
                self.column(),
                ExprErrorKind::TooLarge,
                format!("nested deeper than {MAX_DEPTH}"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        self.deeper()?;
        let column = self.column();
        let mut node = self.and()?;
        if self.keyword("or") {
            require_condition(&node, column)?;
        }
        while self.keyword("or") {
            self.next();
            let column = self.column();
            let right = self.and()?;
            require_condition(&right, column)?;
            node = Node::Or(Box::new(node), Box::new(right));
        }
        self.depth -= 1;
        Ok(node)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let column = self.column();
        let mut node = self.not()?;
        if self.keyword("and") {
            require_condition(&node, column)?;
        }
        while self.keyword("and") {
            self.next();
            let column = self.column();
            let right = self.not()?;
            require_condition(&right, column)?;
            node = Node::And(Box::new(node), Box::new(right));
        }
        Ok(node)
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if !self.keyword("not") {
            return self.compare();
        }
        self.next();
        self.deeper()?;
        let column = self.column();
        let operand = self.not()?;
        require_condition(&operand, column)?;
        self.depth -= 1;
        Ok(Node::Not(Box::new(operand)))
    }

    fn compare(&mut self) -> Result<Node, ExprError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Token::Symbol("=") => Comparison::Equal,
            Token::Symbol("<>" | "!=") => Comparison::NotEqual,
            Token::Symbol(">") => Comparison::Greater,
            Token::Symbol(">=") => Comparison::GreaterOrEqual,
            Token::Symbol("<") => Comparison::Less,
            Token::Symbol("<=") => Comparison::LessOrEqual,
            _ => return Ok(left),
        };
        self.next();
        let right = self.sum()?;
        Ok(Node::Compare(op, Box::new(left), Box::new(right)))
    }

    fn sum(&mut self) -> Result<Node, ExprError> {
        let mut node = self.product()?;
        loop {
            let op = match self.peek() {
                Token::Symbol("+") => Arithmetic::Add,
                Token::Symbol("-") => Arithmetic::Subtract,
                _ => return Ok(node),
            };
            let column = self.column();
            self.next();
            let right = self.product()?;
            node = arithmetic(op, node, right, column)?;
        }
    }

    fn product(&mut self) -> Result<Node, ExprError> {
        let mut node = self.unary()?;
        loop {
            let op = match self.peek() {
                Token::Symbol("*") => Arithmetic::Multiply,
                Token::Symbol("/") => Arithmetic::Divide,
                _ => return Ok(node),
            };
            let column = self.column();
            self.next();
            let right = self.unary()?;
            node = arithmetic(op, node, right, column)?;
        }
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.symbol("-") {
            let column = self.column();
            self.next();
            self.deeper()?;
            let operand = self.unary()?;
            self.depth -= 1;
            require_number(&operand, column)?;
            return Ok(match operand {
                Node::Number(n) => Node::Number(-n),
                other => Node::Negate(Box::new(other)),
            });
        }
        self.power()
    }

    fn power(&mut self) -> Result<Node, ExprError> {
        let base = self.primary()?;
        if !self.symbol("^") {
            return Ok(base);
        }
        let column = self.column();
        self.next();
        self.deeper()?;
        let exponent = self.unary()?;
        self.depth -= 1;
        arithmetic(Arithmetic::Power, base, exponent, column)
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        if matches!(
            self.peek(),
            Token::End
                | Token::Symbol(
                    ")" | "," | "=" | "<>" | "!=" | ">" | ">=" | "<" | "<=" | "+" | "*" | "/" | "^"
                )
        ) {
            return Err(self.unexpected());
        }
        let (token, column) = self.next();
        match token {
            Token::Number(n) => Ok(Node::Number(n)),
            Token::Text(t) => Ok(Node::Text(t.into())),
            Token::Ref(name, code) => {
                let field = self.fields.field(&name).ok_or_else(|| {
                    error(
                        column,
                        ExprErrorKind::UnknownField,
                        format!("`[{name}]` is not a field of the protocol"),
                    )
                })?;
                match code {
                    None => Ok(Node::Field(field)),
                    Some(code) if self.fields.has_choice(field, &code) => {
                        Ok(Node::Choice(field, code.into()))
                    }
                    Some(code) => Err(error(
                        column,
                        ExprErrorKind::UnknownField,
                        format!("`[{name}({code})]`: `{name}` has no choice `{code}`"),
                    )),
                }
            }
            Token::Symbol("(") => {
                let node = self.or()?;
                self.expect(")")?;
                Ok(node)
            }
            Token::Name(name) if name.eq_ignore_ascii_case("true") => Ok(Node::Number(1.0)),
            Token::Name(name) if name.eq_ignore_ascii_case("false") => Ok(Node::Number(0.0)),
            Token::Name(name) if self.symbol("(") => self.call(&name, column),
            Token::Name(name) => Err(error(
                column,
                ExprErrorKind::Syntax,
                format!("`{name}` is not a value (fields are written `[{name}]`)"),
            )),
            Token::Symbol(s) => Err(error(
                column,
                ExprErrorKind::Syntax,
                format!("unexpected `{s}`"),
            )),
            Token::End => Err(error(
                column,
                ExprErrorKind::Syntax,
                "the expression ends where a value is expected",
            )),
        }
    }

    fn call(&mut self, name: &str, column: usize) -> Result<Node, ExprError> {
        let function = Function::named(name).ok_or_else(|| {
            error(
                column,
                ExprErrorKind::Unsupported,
                format!("`{name}` is not a function clinval evaluates"),
            )
        })?;
        self.expect("(")?;
        self.deeper()?;
        let mut args = Vec::new();
        if !self.symbol(")") {
            loop {
                args.push((self.column(), self.or()?));
                if !self.symbol(",") {
                    break;
                }
                self.next();
            }
        }
        self.expect(")")?;
        self.depth -= 1;
        let (least, most) = function.arity();
        if args.len() < least || args.len() > most {
            let wanted = if least == most {
                format!("{least}")
            } else {
                format!("{least} to {most}")
            };
            return Err(error(
                column,
                ExprErrorKind::Syntax,
                format!("`{name}` takes {wanted} arguments, not {}", args.len()),
            ));
        }
        check_arguments(function, &args)?;
        Ok(Node::Call(
            function,
            args.into_iter().map(|(_, a)| a).collect(),
        ))
    }
}

/// The type rules of a call's arguments.
fn check_arguments(function: Function, args: &[(usize, Node)]) -> Result<(), ExprError> {
    match function {
        Function::If => require_condition(&args[0].1, args[0].0),
        Function::Sum
        | Function::Mean
        | Function::Min
        | Function::Max
        | Function::Round
        | Function::RoundUp
        | Function::RoundDown
        | Function::Abs
        | Function::Sqrt => args
            .iter()
            .try_for_each(|(column, arg)| require_number(arg, *column)),
        Function::DateDiff => {
            let (column, unit) = &args[2];
            match unit {
                Node::Text(u) if ["y", "M", "d", "h", "m", "s"].contains(&u.as_ref()) => Ok(()),
                _ => Err(error(
                    *column,
                    ExprErrorKind::Type,
                    "datediff's unit is one of \"y\", \"M\", \"d\", \"h\", \"m\", \"s\"",
                )),
            }
        }
        _ => Ok(()),
    }
}

/// `op` over two operands, each of which must be able to be a number; two
/// literals are folded.
fn arithmetic(op: Arithmetic, left: Node, right: Node, column: usize) -> Result<Node, ExprError> {
    require_number(&left, column)?;
    require_number(&right, column)?;
    Ok(Node::Arithmetic(op, Box::new(left), Box::new(right)))
}

fn require_number(node: &Node, column: usize) -> Result<(), ExprError> {
    match (node.kind(), node) {
        (Kind::Text, Node::Text(t)) if t.trim().parse::<f64>().is_err() => Err(error(
            column,
            ExprErrorKind::Type,
            format!("expected a number, found the text '{t}'"),
        )),
        (Kind::Condition, _) => Err(error(
            column,
            ExprErrorKind::Type,
            "expected a number, found a condition",
        )),
        _ => Ok(()),
    }
}

fn require_condition(node: &Node, column: usize) -> Result<(), ExprError> {
    match node.kind() {
        Kind::Number | Kind::Text => Err(error(
            column,
            ExprErrorKind::Type,
            "expected a condition (a comparison, `and`, `or`, `not`), found a value",
        )),
        Kind::Condition | Kind::Any => Ok(()),
    }
}
