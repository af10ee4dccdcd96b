//! clinval's expression language: branching (`showIf`), conditional
//! requirement (`requiredIf`), assertions and calculated fields.
//!
//! The syntax is REDCap's logic syntax, the one trial instruments are
//! already written in: `[field]`, `[checkbox(code)]`, `= <> != > >= < <=`,
//! `and`, `or`, `not`, parentheses, numbers, quoted strings, `+ - * / ^`,
//! and functions (`if`, `sum`, `mean`, `min`, `max`, `round`, `abs`,
//! `datediff`, `isblankormissingcode`, `isnumber`, `contains`, ...). An
//! expression is compiled once, when its protocol loads: field names are
//! resolved to indices, the types of operands checked, and an error names
//! the column it is at. Evaluation walks the compiled tree over a record's
//! cleaned texts; the tree is bounded in depth and size, has no loops and
//! allocates only for text results, so an expression cannot hang, trap or
//! exhaust memory whatever the protocol or the record. Dates come from the
//! run's as-of date, never a clock.
//!
//! Values follow REDCap's rules: a field reads as its text (a checkbox
//! choice as `1` or `0`); two sides that are both numbers compare as
//! numbers, otherwise as text; an ordering comparison with an empty side
//! is false; arithmetic on an empty or non-numeric side is empty.

mod eval;
mod parse;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;

pub use eval::Record;

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    node: Node,
    /// The fields it reads (sorted, once each): for visibility and the
    /// order of calculated fields.
    reads: Vec<usize>,
}

/// Why an expression cannot be used, at a 1-based column of its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ExprError {
    /// 1-based column (in characters) of the error.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What kind of problem.
    pub kind: ExprErrorKind,
}

/// What kind of problem an [`ExprError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprErrorKind {
    /// Not an expression of the grammar.
    Syntax,
    /// A `[name]` that is no field of the protocol.
    UnknownField,
    /// An operand of the wrong kind (text where a number is needed, a
    /// number where a condition is).
    Type,
    /// REDCap syntax clinval does not evaluate (smart variables, events,
    /// an unknown function).
    Unsupported,
    /// Over the depth or size limit.
    TooLarge,
}

/// How the compiler resolves names.
pub trait Fields {
    /// The index of the field `name`, if there is one.
    fn field(&self, name: &str) -> Option<usize>;
    /// Whether field `field` has the choice `code` (a multi-select).
    fn has_choice(&self, field: usize, code: &str) -> bool;
}

/// A compiled node. Operands are boxed; a call's arguments are a vector.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(Box<str>),
    Number(f64),
    Field(usize),
    Choice(usize, Box<str>),
    Not(Box<Node>),
    Negate(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Compare(Comparison, Box<Node>, Box<Node>),
    Arithmetic(Arithmetic, Box<Node>, Box<Node>),
    Call(Function, Vec<Node>),
}

/// `= <> != > >= < <=` (`!=` is `<>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

/// `+ - * / ^`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
    Power,
}

/// The functions, by their REDCap names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    If,
    Sum,
    Mean,
    Min,
    Max,
    Round,
    RoundUp,
    RoundDown,
    Abs,
    Sqrt,
    DateDiff,
    IsBlankOrMissingCode,
    IsNumber,
    IsInteger,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Length,
    Concat,
}

/// What a node evaluates to, for the type rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A condition (`true`/`false`).
    Condition,
    /// A number.
    Number,
    /// A text literal.
    Text,
    /// A field, `if`, or anything that may be either.
    Any,
}

/// Longest expression source, in bytes.
pub const MAX_SOURCE: usize = 16 * 1024;
/// Deepest nesting of an expression.
pub const MAX_DEPTH: usize = 64;

impl Expr {
    /// Compiles `source`, resolving names with `fields`.
    pub fn compile(source: &str, fields: &dyn Fields) -> Result<Expr, ExprError> {
        let node = parse::parse(source, fields)?;
        let mut reads: Vec<usize> = Vec::new();
        node.visit_fields(&mut |f| {
            if let Err(at) = reads.binary_search(&f) {
                reads.insert(at, f);
            }
        });
        Ok(Expr { node, reads })
    }

    /// Compiles a condition (`showIf`, `requiredIf`, `assert`): an
    /// expression that is true or false.
    pub fn condition(source: &str, fields: &dyn Fields) -> Result<Expr, ExprError> {
        let expr = Expr::compile(source, fields)?;
        if matches!(expr.node.kind(), Kind::Number | Kind::Text) {
            return Err(ExprError {
                column: 1,
                message: "expected a condition (a comparison, `and`, `or`, `not`), found a value"
                    .into(),
                kind: ExprErrorKind::Type,
            });
        }
        Ok(expr)
    }

    /// The fields it reads, by index.
    pub fn reads(&self) -> &[usize] {
        &self.reads
    }

    /// Whether the condition holds for `record` as of `as_of`.
    pub fn holds(&self, record: &dyn Record, as_of: NaiveDate) -> bool {
        eval::truth(&eval::eval(&self.node, record, as_of))
    }

    /// The value for `record` as of `as_of`, as a number (`None` when it
    /// is empty or not a number).
    pub fn number(&self, record: &dyn Record, as_of: NaiveDate) -> Option<f64> {
        eval::number(&eval::eval(&self.node, record, as_of))
    }
}

impl Node {
    fn visit_fields(&self, each: &mut impl FnMut(usize)) {
        match self {
            Node::Field(f) | Node::Choice(f, _) => each(*f),
            Node::Text(_) | Node::Number(_) => {}
            Node::Not(a) | Node::Negate(a) => a.visit_fields(each),
            Node::And(a, b)
            | Node::Or(a, b)
            | Node::Compare(_, a, b)
            | Node::Arithmetic(_, a, b) => {
                a.visit_fields(each);
                b.visit_fields(each);
            }
            Node::Call(_, args) => args.iter().for_each(|a| a.visit_fields(each)),
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Node::Text(_) => Kind::Text,
            Node::Number(_) | Node::Negate(_) | Node::Arithmetic(..) => Kind::Number,
            Node::Not(_) | Node::And(..) | Node::Or(..) | Node::Compare(..) => Kind::Condition,
            Node::Field(_) | Node::Choice(..) => Kind::Any,
            Node::Call(function, _) => function.kind(),
        }
    }
}

impl Function {
    /// The function named `name` (any case).
    fn named(name: &str) -> Option<Function> {
        Some(match name.to_ascii_lowercase().as_str() {
            "if" => Function::If,
            "sum" => Function::Sum,
            "mean" => Function::Mean,
            "min" => Function::Min,
            "max" => Function::Max,
            "round" => Function::Round,
            "roundup" => Function::RoundUp,
            "rounddown" => Function::RoundDown,
            "abs" => Function::Abs,
            "sqrt" => Function::Sqrt,
            "datediff" => Function::DateDiff,
            "isblankormissingcode" => Function::IsBlankOrMissingCode,
            "isnumber" => Function::IsNumber,
            "isinteger" => Function::IsInteger,
            "contains" => Function::Contains,
            "not_contain" => Function::NotContains,
            "starts_with" => Function::StartsWith,
            "ends_with" => Function::EndsWith,
            "length" => Function::Length,
            "concat" => Function::Concat,
            _ => return None,
        })
    }

    /// How many arguments it takes: at least, at most.
    fn arity(self) -> (usize, usize) {
        match self {
            Function::If => (3, 3),
            Function::Sum | Function::Mean | Function::Min | Function::Max | Function::Concat => {
                (1, 64)
            }
            Function::Round | Function::RoundUp | Function::RoundDown => (1, 2),
            Function::Abs
            | Function::Sqrt
            | Function::IsBlankOrMissingCode
            | Function::IsNumber
            | Function::IsInteger
            | Function::Length => (1, 1),
            Function::DateDiff => (3, 5),
            Function::Contains
            | Function::NotContains
            | Function::StartsWith
            | Function::EndsWith => (2, 2),
        }
    }

    fn kind(self) -> Kind {
        match self {
            Function::IsBlankOrMissingCode
            | Function::IsNumber
            | Function::IsInteger
            | Function::Contains
            | Function::NotContains
            | Function::StartsWith
            | Function::EndsWith => Kind::Condition,
            Function::If | Function::Concat => Kind::Any,
            _ => Kind::Number,
        }
    }
}
