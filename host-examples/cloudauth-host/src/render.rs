//! Printing a plan: readable text, or JSON (`--json`) with the same content.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::plan::{Body, Flow, Plan, ShownRequest};

/// The plan as text.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let o = &mut out;
    let _ = writeln!(o, "cloudauth plan for {}", plan.target);
    let _ = writeln!(o);
    let _ = writeln!(o, "Target");
    match &plan.resolved {
        Err(e) => {
            let _ = writeln!(o, "  error      {e}");
        }
        Ok(r) => {
            field(o, "provider", r.provider);
            field(o, "registry", &r.registry);
            if let Some(cloud) = r.cloud {
                field(o, "cloud", cloud);
            }
            if let Some(aws) = &r.aws {
                field(o, "account", aws.account_id.as_deref().unwrap_or("(none: ECR Public)"));
                field(o, "region", &aws.region);
                field(o, "partition", &aws.partition);
                field(o, "fips", if aws.fips { "yes" } else { "no" });
                field(o, "public", if aws.public { "yes (ECR Public)" } else { "no" });
            }
            match &plan.scopes {
                Ok(scopes) if scopes.is_empty() => field(o, "scopes", "(none: this provider's tokens take no scope)"),
                Ok(scopes) => field(o, "scopes", &scopes.join(" ")),
                Err(e) => field(o, "scopes", &format!("(none) {e}")),
            }
            match &plan.audience {
                Ok(audience) => field(o, "audience", &format!("{audience}  (of the Kubernetes service-account token)")),
                Err(e) => field(o, "audience", &format!("(none fixed) {e}")),
            }
        }
    }
    for flow in &plan.flows {
        let _ = writeln!(o);
        flow_text(o, flow);
    }
    let _ = writeln!(o);
    for note in &plan.notes {
        let _ = writeln!(o, "{note}");
    }
    out
}

fn field(o: &mut String, name: &str, value: &str) {
    let _ = writeln!(o, "  {name:<10} {value}");
}

fn flow_text(o: &mut String, flow: &Flow) {
    let label = if flow.default { "default" } else { "alternative" };
    let _ = writeln!(o, "{}  [{label}]", flow.name);
    for line in &flow.intro {
        let _ = writeln!(o, "  {line}");
    }
    for (n, step) in flow.steps.iter().enumerate() {
        let _ = writeln!(o, "  {}. {}", n + 1, step.title);
        match &step.request {
            Ok(request) => request_text(o, request),
            Err(e) => {
                let _ = writeln!(o, "     (the component could not build it: {e})");
            }
        }
    }
    let _ = writeln!(o, "  => {}", flow.outcome);
    for note in &flow.notes {
        let _ = writeln!(o, "  note: {note}");
    }
}

pub fn request_text(o: &mut String, r: &ShownRequest) {
    let pad = "     ";
    let _ = writeln!(o, "{pad}{} {}", r.method, r.url);
    for (name, value) in &r.headers {
        let _ = writeln!(o, "{pad}{name}: {value}");
    }
    match &r.body {
        Body::Empty => {}
        Body::Form(pairs) => {
            let _ = writeln!(o, "{pad}form body (decoded):");
            for (k, v) in pairs {
                let _ = writeln!(o, "{pad}  {k} = {v}");
            }
        }
        Body::Text(text) => {
            let _ = writeln!(o, "{pad}body:");
            for line in text.lines() {
                let _ = writeln!(o, "{pad}  {line}");
            }
        }
    }
}

/// The plan as JSON.
pub fn json(plan: &Plan) -> Value {
    let resolved = match &plan.resolved {
        Ok(r) => json!({
            "provider": r.provider,
            "registry": r.registry,
            "cloud": r.cloud,
            "aws": r.aws.as_ref().map(|a| json!({
                "account_id": a.account_id,
                "region": a.region,
                "partition": a.partition,
                "fips": a.fips,
                "public": a.public,
            })),
        }),
        Err(e) => json!({ "error": e }),
    };
    json!({
        "target": plan.target,
        "resolved": resolved,
        "scopes": result(&plan.scopes),
        "audience": result(&plan.audience),
        "flows": plan.flows.iter().map(flow_json).collect::<Vec<_>>(),
        "notes": plan.notes,
    })
}

fn result<T: Clone + Into<Value>>(r: &Result<T, String>) -> Value {
    match r {
        Ok(v) => v.clone().into(),
        Err(e) => json!({ "error": e }),
    }
}

fn flow_json(flow: &Flow) -> Value {
    let steps: Vec<Value> = flow
        .steps
        .iter()
        .map(|s| match &s.request {
            Ok(r) => json!({ "title": s.title, "request": request_json(r) }),
            Err(e) => json!({ "title": s.title, "error": e }),
        })
        .collect();
    json!({
        "name": flow.name,
        "default": flow.default,
        "intro": flow.intro,
        "steps": steps,
        "outcome": flow.outcome,
        "notes": flow.notes,
    })
}

pub fn request_json(r: &ShownRequest) -> Value {
    let body = match &r.body {
        Body::Empty => Value::Null,
        Body::Form(pairs) => json!({ "form": pairs }),
        Body::Text(text) => json!(text),
    };
    json!({
        "method": r.method,
        "url": r.url,
        "headers": r.headers,
        "body": body,
    })
}
