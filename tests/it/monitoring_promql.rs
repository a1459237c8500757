//! What the monitoring scenario asks Prometheus about one expression, so that a misspelt metric,
//! label or label value fails instead of silently matching nothing. From the parsed expression
//! (promql-parser, nothing guessed from text):
//! - every metric selector, and each branch of an `=~"a|b|c"` matcher as a selector of its own
//!   (a typo in one branch would otherwise hide behind the others);
//! - every threshold-free part: the expression itself when it has no comparison or set operator,
//!   else the operands of those operators, recursively (`absent(x)` is probed as `x`; a part
//!   with an `offset` is split further, its data may predate this Prometheus), so that
//!   `x / y` with labels that never match also fails;
//! - every label it aggregates or matches by (`by`, `without`, `on`, `ignoring`, `group_left`).

use promql_parser::label::MatchOp;
use promql_parser::parser::{self, BinaryExpr, Expr, VectorSelector};

/// The queries to run for one expression.
#[derive(Debug, Default)]
pub struct Probes {
    /// Plain selectors; each must return a series.
    pub selectors: Vec<String>,
    /// Threshold-free sub-expressions; each must return a series.
    pub parts: Vec<String>,
    /// Labels used for grouping or matching; each must be on some series of a selector.
    pub labels: Vec<String>,
}

/// Parses `expr` (as Prometheus would) into the queries that prove it matches real series.
pub fn probes(expr: &str) -> Result<Probes, String> {
    let ast = parser::parse(expr)?;
    let mut p = Probes::default();
    walk(&ast, &mut p);
    parts(&ast, &mut p.parts);
    for list in [&mut p.selectors, &mut p.parts, &mut p.labels] {
        list.sort();
        list.dedup();
    }
    let selectors = &p.selectors;
    p.parts.retain(|part| !selectors.contains(part));
    if p.selectors.is_empty() {
        return Err("no metric selector".into());
    }
    Ok(p)
}

fn walk(e: &Expr, p: &mut Probes) {
    match e {
        Expr::VectorSelector(vs) => selector(vs, p),
        Expr::MatrixSelector(ms) => selector(&ms.vs, p),
        Expr::Aggregate(a) => {
            if let Some(m) = &a.modifier {
                p.labels.extend(m.labels().labels.iter().cloned());
            }
            walk(&a.expr, p);
            if let Some(param) = &a.param {
                walk(param, p);
            }
        }
        Expr::Binary(b) => {
            if let Some(m) = &b.modifier {
                if let Some(matching) = &m.matching {
                    p.labels.extend(matching.labels().labels.iter().cloned());
                }
                if let Some(extra) = m.card.labels() {
                    p.labels.extend(extra.labels.iter().cloned());
                }
            }
            walk(&b.lhs, p);
            walk(&b.rhs, p);
        }
        Expr::Unary(u) => walk(&u.expr, p),
        Expr::Paren(x) => walk(&x.expr, p),
        Expr::Subquery(s) => walk(&s.expr, p),
        Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, p)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// A matcher as (label, operator, value).
type Matcher = (String, &'static str, String);

fn selector(vs: &VectorSelector, p: &mut Probes) {
    let ms = &vs.matchers;
    if !ms.or_matchers.is_empty() {
        p.selectors.push(vs.to_string());
        return;
    }
    let base: Vec<Matcher> = ms
        .matchers
        .iter()
        .filter(|m| !(vs.name.is_some() && m.name == "__name__"))
        .map(|m| (m.name.clone(), op(&m.op), m.value.clone()))
        .collect();
    let name = vs.name.as_deref().unwrap_or("");
    p.selectors.push(render(name, &base));
    for (i, (_, op, value)) in base.iter().enumerate() {
        if *op == "=~" && value.contains('|') && !value.contains('(') {
            for branch in value.split('|') {
                let mut one = base.clone();
                one[i].2 = branch.to_owned();
                p.selectors.push(render(name, &one));
            }
        }
    }
}

fn op(op: &MatchOp) -> &'static str {
    match op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::Re(_) => "=~",
        MatchOp::NotRe(_) => "!~",
    }
}

fn render(name: &str, matchers: &[Matcher]) -> String {
    // A JSON string is a valid PromQL double-quoted string with the same escapes.
    let quote = |v: &String| serde_json::to_string(v).unwrap_or_default();
    let inner: Vec<String> = matchers
        .iter()
        .map(|(label, op, value)| format!("{label}{op}{}", quote(value)))
        .collect();
    if inner.is_empty() {
        return name.to_owned();
    }
    format!("{name}{{{}}}", inner.join(", "))
}

fn parts(e: &Expr, out: &mut Vec<String>) {
    if let Expr::Call(c) = e {
        if c.func.name.starts_with("absent") {
            // absent(x) returns a series only while x has none: probe x.
            c.args.args.iter().for_each(|a| parts(a, out));
            return;
        }
    }
    if any(e, &has_offset) {
        // Data an offset ago may predate this Prometheus; its selectors are probed without it.
        children(e).into_iter().for_each(|c| parts(c, out));
        return;
    }
    if !any(e, &|x| matches!(x, Expr::Binary(b) if filters(b))) {
        if any(e, &|x| {
            matches!(x, Expr::VectorSelector(_) | Expr::MatrixSelector(_))
        }) {
            out.push(e.to_string());
        }
        return;
    }
    children(e).into_iter().for_each(|c| parts(c, out));
}

fn has_offset(e: &Expr) -> bool {
    match e {
        Expr::VectorSelector(vs) => vs.offset.is_some(),
        Expr::MatrixSelector(ms) => ms.vs.offset.is_some(),
        Expr::Subquery(s) => s.offset.is_some(),
        _ => false,
    }
}

/// A comparison without `bool` (drops series) or a set operator (`and`, `or`, `unless`).
fn filters(b: &BinaryExpr) -> bool {
    let bool_modifier = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    b.op.is_set_operator() || (b.op.is_comparison_operator() && !bool_modifier)
}

fn any(e: &Expr, pred: &dyn Fn(&Expr) -> bool) -> bool {
    pred(e) || children(e).into_iter().any(|c| any(c, pred))
}

fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Aggregate(a) => [Some(&*a.expr), a.param.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        Expr::Binary(b) => vec![&b.lhs, &b.rhs],
        Expr::Unary(u) => vec![&u.expr],
        Expr::Paren(x) => vec![&x.expr],
        Expr::Subquery(s) => vec![&s.expr],
        Expr::Call(c) => c.args.args.iter().map(|a| &**a).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn probes_split_thresholds_sets_and_regex_branches() {
    let p = probes(
        r#"sum by (job) (rate(a_total{x=~"p|q", y!="z"}[5m])) / on (job) group_left max by (job) (b) > 0.5
           and absent(c) or d == bool 1"#,
    )
    .expect("parses");
    assert_eq!(
        p.selectors,
        [
            r#"a_total{x=~"p", y!="z"}"#,
            r#"a_total{x=~"p|q", y!="z"}"#,
            r#"a_total{x=~"q", y!="z"}"#,
            "b",
            "c",
            "d",
        ]
    );
    assert_eq!(p.labels, ["job"]);
    assert_eq!(p.parts.len(), 2, "{:?}", p.parts);
    assert!(p
        .parts
        .iter()
        .any(|s| s.starts_with("sum by (job)") && s.contains("group_left")));
    assert!(p.selectors.contains(&"c".to_owned()), "absent(c) probes c");
    assert!(p
        .parts
        .iter()
        .any(|s| s.starts_with('d') && s.contains("bool")));
}

#[test]
fn probes_leave_out_offsets_but_keep_their_selectors() {
    let p = probes("sum(x unless x offset 1h) or increase(y[1h])").expect("parses");
    assert_eq!(p.selectors, ["x", "y"]);
    assert_eq!(p.parts, ["increase(y[1h])"], "{:?}", p.parts);
}
