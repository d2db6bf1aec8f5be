//! Runtime values and the evaluation of typed expressions.

use crate::facts::{AttrValue, Attributes};
use crate::report::Num;
use detente_lang::ast::{ArithOp, CmpOp};
use detente_lang::model::{Expr, Group};
use detente_lang::time::{Date, Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Dec(f64),
    Bool(bool),
    Str(String),
    Date(Date),
    Instant(Instant),
    Duration(Duration),
}

impl Value {
    pub fn num(&self) -> Option<Num> {
        match self {
            Value::Int(i) => Some(Num::Int(*i)),
            Value::Dec(d) => Some(Num::Dec(*d)),
            _ => None,
        }
    }

    pub fn from_num(n: Num) -> Value {
        match n {
            Num::Int(i) => Value::Int(i),
            Num::Dec(d) => Value::Dec(d),
        }
    }

    pub fn date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Instant(i) => Some(i.date()),
            _ => None,
        }
    }

    pub fn instant(&self) -> Option<Instant> {
        match self {
            Value::Date(d) => Some(d.start()),
            Value::Instant(i) => Some(*i),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(i) => serde_json::json!(i),
            Value::Dec(d) => serde_json::json!(d),
            Value::Bool(b) => serde_json::json!(b),
            Value::Str(s) => serde_json::json!(s),
            Value::Date(d) => serde_json::json!(d.to_string()),
            Value::Instant(i) => serde_json::json!(i.to_string()),
            Value::Duration(d) => serde_json::json!(d.to_string()),
        }
    }
}

/// Why a value could not be computed; the text is shown to users as a finding's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

pub type EvalResult = Result<Value, Missing>;

/// What an expression can look up while it is evaluated.
pub trait Scope {
    fn param(&self, name: &str) -> EvalResult;
    fn in_force(&self) -> EvalResult;
    fn signed(&self) -> EvalResult;
    fn quantity(&self, name: &str) -> EvalResult;
    fn attribute(&self, name: &str) -> EvalResult;
    fn group(&self, name: &str) -> Option<&Group>;
    fn aggregate(&self, agg: &detente_lang::model::Aggregate) -> EvalResult;
}

fn overflow() -> Missing {
    Missing("arithmetic overflow".to_owned())
}

pub fn eval(expr: &Expr, scope: &dyn Scope) -> EvalResult {
    Ok(match expr {
        Expr::Int(i) => Value::Int(*i),
        Expr::Decimal(d) => Value::Dec(*d),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Date(d) => Value::Date(*d),
        Expr::Instant(i) => Value::Instant(*i),
        Expr::Duration(d) => Value::Duration(*d),
        Expr::InForce => scope.in_force()?,
        Expr::Signed => scope.signed()?,
        Expr::Param(name) => scope.param(name)?,
        Expr::Quantity(name) => scope.quantity(name)?,
        Expr::Attr(name) => scope.attribute(name)?,
        Expr::Neg(e) => match eval(e, scope)? {
            Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(overflow)?),
            Value::Dec(d) => Value::Dec(-d),
            _ => return Err(type_error()),
        },
        Expr::Not(e) => Value::Bool(!truthy(&eval(e, scope)?)?),
        Expr::And(a, b) => Value::Bool(truthy(&eval(a, scope)?)? && truthy(&eval(b, scope)?)?),
        Expr::Or(a, b) => Value::Bool(truthy(&eval(a, scope)?)? || truthy(&eval(b, scope)?)?),
        Expr::Arith(op, a, b) => arith(*op, eval(a, scope)?, eval(b, scope)?)?,
        Expr::Cmp(op, a, b) => Value::Bool(compare(*op, &eval(a, scope)?, &eval(b, scope)?)?),
        Expr::InGroup(e, group) => {
            let value = eval(e, scope)?;
            let text = text_of(&value)?;
            let group = scope
                .group(group)
                .ok_or_else(|| Missing(format!("group `{group}` is not defined")))?;
            Value::Bool(group.contains(text))
        }
        Expr::InList(e, list) => {
            let value = eval(e, scope)?;
            let text = text_of(&value)?;
            Value::Bool(list.iter().any(|x| matches!(x, Expr::Str(s) if s == text)))
        }
        Expr::Min(args) | Expr::Max(args) => {
            let mut best: Option<Value> = None;
            for arg in args {
                let v = eval(arg, scope)?;
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let less = compare(CmpOp::Lt, &v, &b)?;
                        let pick_new = if matches!(expr, Expr::Min(_)) {
                            less
                        } else {
                            !less && v != b
                        };
                        if pick_new { v } else { b }
                    }
                });
            }
            best.ok_or_else(type_error)?
        }
        Expr::Aggregate(agg) => scope.aggregate(agg)?,
    })
}

fn type_error() -> Missing {
    Missing("a value has the wrong type".to_owned())
}

fn text_of(value: &Value) -> Result<&str, Missing> {
    match value {
        Value::Str(s) => Ok(s),
        _ => Err(type_error()),
    }
}

pub fn truthy(value: &Value) -> Result<bool, Missing> {
    match value {
        Value::Bool(b) => Ok(*b),
        _ => Err(type_error()),
    }
}

pub fn arith(op: ArithOp, a: Value, b: Value) -> EvalResult {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => match op {
            ArithOp::Add => Value::Int(x.checked_add(y).ok_or_else(overflow)?),
            ArithOp::Sub => Value::Int(x.checked_sub(y).ok_or_else(overflow)?),
            ArithOp::Mul => Value::Int(x.checked_mul(y).ok_or_else(overflow)?),
            ArithOp::Div => divide(x as f64, y as f64)?,
        },
        (Value::Date(d), Value::Duration(dur)) | (Value::Duration(dur), Value::Date(d)) => {
            let moved = match op {
                ArithOp::Add => d.checked_add(dur),
                ArithOp::Sub => d.checked_sub(dur),
                _ => return Err(type_error()),
            };
            Value::Date(moved.ok_or_else(|| Missing("a date is out of range".to_owned()))?)
        }
        (Value::Instant(i), Value::Duration(dur)) => {
            let moved = match op {
                ArithOp::Add => i.checked_add(dur),
                ArithOp::Sub => i.checked_sub(dur),
                _ => return Err(type_error()),
            };
            Value::Instant(moved.ok_or_else(|| Missing("an instant is out of range".to_owned()))?)
        }
        (a, b) => {
            let (Some(x), Some(y)) = (a.num(), b.num()) else {
                return Err(type_error());
            };
            let (x, y) = (x.as_f64(), y.as_f64());
            match op {
                ArithOp::Add => Value::Dec(x + y),
                ArithOp::Sub => Value::Dec(x - y),
                ArithOp::Mul => Value::Dec(x * y),
                ArithOp::Div => divide(x, y)?,
            }
        }
    })
}

fn divide(x: f64, y: f64) -> EvalResult {
    if y == 0.0 {
        return Err(Missing("division by zero".to_owned()));
    }
    Ok(Value::Dec(x / y))
}

pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Result<bool, Missing> {
    use std::cmp::Ordering;
    let ordering = match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Duration(x), Value::Duration(y)) if x.unit == y.unit => x.count.cmp(&y.count),
        (a, b) => {
            if let (Some(x), Some(y)) = (a.num(), b.num()) {
                x.as_f64()
                    .partial_cmp(&y.as_f64())
                    .unwrap_or(Ordering::Equal)
            } else if let (Some(x), Some(y)) = (a.instant(), b.instant()) {
                x.cmp(&y)
            } else {
                return Err(type_error());
            }
        }
    };
    Ok(match op {
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
    })
}

/// An attribute of a fact as a runtime value; a missing attribute is `Missing`.
pub fn attribute(attributes: &Attributes, name: &str) -> EvalResult {
    match attributes.get(name) {
        Some(AttrValue::Bool(b)) => Ok(Value::Bool(*b)),
        Some(AttrValue::Int(i)) => Ok(Value::Int(*i)),
        Some(AttrValue::Decimal(d)) => Ok(Value::Dec(*d)),
        Some(AttrValue::Text(s)) => Ok(Value::Str(s.clone())),
        None => Err(Missing(format!("attribute `{name}` is not stated"))),
    }
}
