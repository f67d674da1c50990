//! A ratio SLI's PromQL expressions, checked at their lines: each parses
//! with a window in place of `$window`, every range it reads is `$window`,
//! and what the rules and promtool cases need is read off its syntax tree.

use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr, LabelModifier};
use promql_parser::util::{ExprVisitor, walk_expr};

use super::super::*;
use crate::engine::promql::{self, MAX_EXPR_BYTES, MAX_EXPR_DEPTH};
use crate::model::{WINDOW_PLACEHOLDER, WindowedExpr};

/// What `$window` is replaced with to parse an expression: a range no one
/// writes, so a range equal to it is the placeholder.
const PROBE: &str = "7777777s";

impl Lower {
    /// A ratio SLI's expression at `at`, or `None` with the problem reported.
    pub(super) fn windowed(&mut self, at: &str, text: &spec::PromQl) -> Option<WindowedExpr> {
        let text = text.as_str();
        let refuse = |cx: &mut Self, why: String, help: &str| {
            cx.report(
                Problem::new(Code::InvalidPromql, why)
                    .with_label(Label::value(at, "here"))
                    .with_help(help.to_string()),
            );
            None
        };
        let example = "write the events per second with `$window` as the range, such as sum(rate(bookings_failed_total[$window])): harden puts each window in its place";
        if promql::bounded(text, MAX_EXPR_BYTES, MAX_EXPR_DEPTH).is_err() {
            return refuse(
                self,
                "the expression is too long or nested too deeply".to_string(),
                example,
            );
        }
        let probe = text.replace(WINDOW_PLACEHOLDER, PROBE);
        let expr = match parser::parse(&probe) {
            Ok(e) => e,
            Err(e) => {
                let first = e
                    .lines()
                    .next()
                    .unwrap_or("")
                    .replace(PROBE, WINDOW_PLACEHOLDER);
                return refuse(
                    self,
                    format!("the expression does not parse: {first}"),
                    example,
                );
            }
        };
        if expr.value_type() != ValueType::Vector {
            return refuse(
                self,
                format!(
                    "the expression is a {}, not an instant vector",
                    expr.value_type()
                ),
                example,
            );
        }
        let mut shape = Shape::default();
        let _ = walk_expr(&mut shape, &expr);
        if shape.fixed > 0 {
            let why = if text.contains(WINDOW_PLACEHOLDER) {
                "the expression mixes `$window` with a fixed range"
            } else {
                "the expression reads a fixed range, so every window's ratio would be the same"
            };
            return refuse(self, why.to_string(), example);
        }
        if text.contains(WINDOW_PLACEHOLDER) && shape.windowed == 0 {
            return refuse(
                self,
                "`$window` is not a range here".to_string(),
                "write it in a range's brackets, such as rate(x[$window])",
            );
        }
        Some(WindowedExpr {
            text: text.to_string(),
            summed: summed(&expr),
            per_second: shape.windowed > 0 && shape.not_rate == 0,
            counter: counter(&expr),
        })
    }
}

/// The ranges of an expression: how many are `$window`, how many are not,
/// and how many `$window` ranges a function other than `rate` reads.
#[derive(Default)]
struct Shape {
    windowed: usize,
    fixed: usize,
    not_rate: usize,
}

impl ExprVisitor for Shape {
    type Error = ();
    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, ()> {
        let probe = crate::units::Duration::parse(PROBE)
            .map(|d| std::time::Duration::from_millis(d.as_millis()))
            .ok();
        let is_probe = |range: &std::time::Duration| Some(*range) == probe;
        match expr {
            Expr::MatrixSelector(m) => {
                if is_probe(&m.range) {
                    self.windowed += 1;
                } else {
                    self.fixed += 1;
                }
            }
            Expr::Subquery(s) => {
                if is_probe(&s.range) {
                    self.windowed += 1;
                    // A subquery's value is whatever the function over it makes of it.
                    self.not_rate += 1;
                } else {
                    self.fixed += 1;
                }
            }
            Expr::Call(c) if c.func.name != "rate" => {
                self.not_rate += c
                    .args
                    .args
                    .iter()
                    .filter(|a| matches!(a.as_ref(), Expr::MatrixSelector(_)))
                    .count();
            }
            _ => {}
        }
        Ok(true)
    }
}

/// `sum(…)` without grouping: one series already.
fn summed(expr: &Expr) -> bool {
    match expr {
        Expr::Paren(p) => summed(&p.expr),
        Expr::Aggregate(a) => {
            a.op.to_string() == "sum"
                && match &a.modifier {
                    None => true,
                    Some(LabelModifier::Include(l)) => l.is_empty(),
                    Some(LabelModifier::Exclude(_)) => false,
                }
        }
        _ => false,
    }
}

/// The counter of `sum(rate(counter[$window]))`, `rate(counter[$window])`
/// or the same with `increase`, parentheses allowed; `None` for any other
/// shape (its promtool input cannot be derived).
fn counter(expr: &Expr) -> Option<Selector> {
    match expr {
        Expr::Paren(p) => counter(&p.expr),
        Expr::Aggregate(a) if a.op.to_string() == "sum" && a.param.is_none() => counter(&a.expr),
        Expr::Call(c) if matches!(c.func.name, "rate" | "increase") => {
            let [arg] = c.args.args.as_slice() else {
                return None;
            };
            let Expr::MatrixSelector(m) = arg.as_ref() else {
                return None;
            };
            let v = &m.vs;
            if v.offset.is_some() || v.at.is_some() || !v.matchers.or_matchers.is_empty() {
                return None;
            }
            Some(super::selector_of(v)?)
        }
        _ => None,
    }
}
