//! The syntax tree. Every node carries its span. The tree may be partial: where the parser
//! recovered from an error it leaves out what it could not read, and says so in a
//! diagnostic.

use crate::diag::Span;
use crate::lexer::Comment;
use crate::time::{Date, Instant, TimeUnit};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub treaty: Option<Treaty>,
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Treaty {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Parties(Vec<Ident>),
    Signed(Expr),
    InForce(Expr),
    Expires(Expr),
    Param(Param),
    Category(KindDecl),
    EventType(KindDecl),
    Quantity(QuantityDecl),
    Zone(ZoneDecl),
    Group(GroupDecl),
    Provision(Provision),
    Deferred(Deferred),
    Interpretation(Interpretation),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Option<Expr>,
    pub note: Option<StrLit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Int,
    Decimal,
    Bool,
    String,
    Date,
    Instant,
    Duration,
    Enum(Vec<Ident>),
}

/// A category of items or an event type, with its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct KindDecl {
    pub name: Ident,
    pub note: Option<StrLit>,
    pub attrs: Vec<AttrDecl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttrDecl {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuantityDecl {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Option<Expr>,
    pub declared: bool,
    pub note: Option<StrLit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ZoneDecl {
    pub name: Ident,
    pub note: Option<StrLit>,
    pub shape: ZoneShape,
}

#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per file; boxing would only add noise"
)]
pub enum ZoneShape {
    File(StrLit),
    /// Points as (latitude, longitude) literals.
    Polygon(Vec<(Expr, Expr)>),
    Circle {
        center: (Expr, Expr),
        radius: Expr,
        unit: Ident,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupDecl {
    pub name: Ident,
    pub note: Option<StrLit>,
    pub members: Vec<StrLit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionKind {
    Limit,
    Objective,
    Ban,
    Notify,
    Declare,
}

impl ProvisionKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ProvisionKind::Limit => "limit",
            ProvisionKind::Objective => "objective",
            ProvisionKind::Ban => "ban",
            ProvisionKind::Notify => "notify",
            ProvisionKind::Declare => "declare",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Provision {
    pub kind: ProvisionKind,
    pub id: Ident,
    pub title: Option<StrLit>,
    pub article: Option<StrLit>,
    pub from: Option<Expr>,
    pub until: Option<Expr>,
    pub body: Vec<Stmt>,
}

/// A statement inside a provision body.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per file; boxing would only add noise"
)]
pub enum StmtKind {
    /// `LHS OP SCHEDULE [for PARTY, …]` in a limit or objective.
    Clause {
        lhs: Expr,
        op: CmpOp,
        schedule: Schedule,
        parties: Vec<Ident>,
    },
    /// `item A, B [where F] [within Z]` or `event …` in a ban.
    Target {
        subject: Subject,
        names: Vec<Ident>,
        filter: Option<Box<Expr>>,
        within: Option<Ident>,
    },
    /// `except [where F] [within Z] [until DATE] ["NOTE"]` in a ban.
    Except {
        filter: Option<Box<Expr>>,
        within: Option<Ident>,
        until: Option<Expr>,
        note: Option<StrLit>,
    },
    /// `event TYPE` in a notify.
    NotifyEvent(Ident),
    Lead(Expr),
    Stating(Vec<Ident>),
    /// `quantities all` or `quantities a, b`.
    Quantities(Option<Vec<Ident>>),
    /// `as_of 1 January, 1 July`.
    AsOf(Vec<(Expr, Ident)>),
    Due(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Item,
    Event,
}

#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per file; boxing would only add noise"
)]
pub enum Schedule {
    /// `EXPR, EXPR from DATE, …`; the first entry has no date.
    Piecewise(Vec<(Expr, Option<Expr>)>),
    /// `steps START to TARGET every DURATION until DATE`.
    Steps {
        start: Expr,
        target: Expr,
        every: Expr,
        until: Expr,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deferred {
    pub id: Ident,
    pub title: Option<StrLit>,
    pub note: Option<StrLit>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Interpretation {
    pub id: Ident,
    pub title: Option<StrLit>,
    pub quantities: Vec<(QuantityDecl, Span)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    Sum,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    /// The calendar year containing the instant.
    PerYear,
    /// A trailing window ending at the instant.
    Over(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Decimal(f64),
    Str(String),
    Bool(bool),
    Date(Date),
    Instant(Instant),
    Duration(i64, TimeUnit),
    Name(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `x in group` (one name) or `x in (a, b, …)`.
    In(Box<Expr>, InSet),
    /// `min(a, b)`, `max(a, b)`.
    Call(Ident, Vec<Expr>),
    Aggregate {
        func: AggFunc,
        target: Ident,
        attr: Option<Ident>,
        filter: Option<Box<Expr>>,
        within: Option<Ident>,
        window: Option<Window>,
    },
    /// Written in parentheses; kept so the formatter can keep the author's grouping.
    Paren(Box<Expr>),
    /// Something that could not be parsed; a diagnostic says what.
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InSet {
    Group(Ident),
    List(Vec<Expr>),
}
