//! The kubelet credential-provider plugin protocol
//! (`credentialprovider.kubelet.k8s.io/v1`), so that a node pulls images
//! with credentials from cloudauth.
//!
//! The kubelet runs the plugin with a `CredentialProviderRequest` on stdin
//! and reads a `CredentialProviderResponse` from stdout. The credentials come
//! from a session for the image's registry:
//!
//! * normally as the node's own identity (controller level), with the
//!   process environment as the flow's environment (the kubelet's
//!   `CredentialProviderConfig` `env` entries end up there);
//! * when the kubelet sends the pod's `serviceAccountToken` (its
//!   `tokenAttributes` configuration), as that service account (object
//!   level), with the annotations it sends; the account's namespace and name
//!   are read from the token's `sub` claim.
//!
//! The response uses `cacheKeyType: Registry`, keys `auth` by the registry
//! host, and sets `cacheDuration` from the credentials' expiry. A registry
//! cloudauth does not serve gets an empty `auth`, which tells the kubelet
//! this plugin has nothing for it; any other failure is a message on stderr
//! and a non-zero exit.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use serde::Deserialize;

use crate::flow::{self, FlowError, Identity, ServiceAccount, TokenFiles};

/// The API versions the kubelet may send; the answer uses the same one.
const API_VERSIONS: &[&str] = &[
    "credentialprovider.kubelet.k8s.io/v1",
    "credentialprovider.kubelet.k8s.io/v1beta1",
    "credentialprovider.kubelet.k8s.io/v1alpha1",
];

/// Longest request accepted on stdin.
const MAX_INPUT: u64 = 1 << 20;

/// What the kubelet sends.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    api_version: String,
    kind: String,
    image: String,
    #[serde(default)]
    service_account_token: Option<String>,
    #[serde(default)]
    service_account_annotations: BTreeMap<String, String>,
}

/// Registry credentials and their expiry, as the answer needs them.
#[derive(Debug, PartialEq, Eq)]
struct Auth {
    registry: String,
    username: String,
    password: String,
    expires_at: Option<i64>,
}

pub fn main(args: &[String]) -> ExitCode {
    if let Some(arg) = args.first() {
        eprintln!(
            "kubelet-credential-provider takes no arguments (got {arg}); it reads a CredentialProviderRequest on stdin"
        );
        return ExitCode::from(2);
    }
    match run() {
        Ok(json) => {
            let mut stdout = std::io::stdout().lock();
            match writeln!(stdout, "{json}").and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(e) => {
            eprintln!("cloudauth kubelet-credential-provider: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<String> {
    let mut input = Vec::new();
    std::io::stdin().take(MAX_INPUT).read_to_end(&mut input).context("cannot read stdin")?;
    let request = parse_request(&input)?;
    let (identity, object_level) = identity(&request)?;
    let mut options = flow::options_from_env(&flow::process_env())?;
    options.object_level_workload_identity = object_level;
    let tokens = TokenFiles {
        token_file: None,
        service_account_token: request.service_account_token.clone().map(cloudauth_runtime::Secret::new),
    };
    let outcome = flow::registry_credentials(&request.image, identity, options, &tokens);
    let auth = match outcome {
        Ok(login) => Some(Auth {
            registry: login.registry,
            username: login.username,
            password: login.password.into_inner(),
            expires_at: login.expires_at,
        }),
        Err(e) if e.is_unsupported() => None,
        Err(FlowError::Flow(e)) => bail!("{}: {e}", request.image),
        Err(FlowError::Host(e)) => return Err(e.context(request.image.clone())),
    };
    Ok(response(&request.api_version, auth.as_ref(), flow::now()).to_string())
}

fn parse_request(input: &[u8]) -> anyhow::Result<Request> {
    let request: Request = serde_json::from_slice(input)
        .map_err(|e| anyhow!("stdin is not a CredentialProviderRequest: line {} column {}", e.line(), e.column()))?;
    if !API_VERSIONS.contains(&request.api_version.as_str()) {
        bail!("unsupported apiVersion {:?}; expected one of {}", request.api_version, API_VERSIONS.join(", "));
    }
    if request.kind != "CredentialProviderRequest" {
        bail!("unexpected kind {:?}; expected CredentialProviderRequest", request.kind);
    }
    if request.image.is_empty() {
        bail!("the request names no image");
    }
    Ok(request)
}

/// Whose credentials: the pod's service account when the kubelet sent its
/// token, else the node's own identity. The bool is "object level".
fn identity(request: &Request) -> anyhow::Result<(Identity, bool)> {
    let Some(token) = &request.service_account_token else {
        return Ok((Identity::Controller, false));
    };
    let (namespace, name) = service_account_of(token)?;
    let annotations = request.service_account_annotations.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok((Identity::ServiceAccount(ServiceAccount { namespace, name, annotations }), true))
}

/// `(namespace, name)` from a service-account token's `sub` claim,
/// `system:serviceaccount:<namespace>:<name>`. The token is not verified:
/// the kubelet minted it, and the cloud verifies it when it is exchanged.
fn service_account_of(token: &str) -> anyhow::Result<(String, String)> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        bail!("the service account token is not a JWT");
    };
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .context("the service account token's claims are not base64url JSON")?;
    let sub = claims.get("sub").and_then(|s| s.as_str()).context("the service account token has no sub claim")?;
    match sub.split(':').collect::<Vec<_>>().as_slice() {
        ["system", "serviceaccount", namespace, name] if !namespace.is_empty() && !name.is_empty() => {
            Ok(((*namespace).to_owned(), (*name).to_owned()))
        }
        _ => bail!("the service account token's subject is not system:serviceaccount:<namespace>:<name>"),
    }
}

/// The `CredentialProviderResponse`; `None` is "nothing for this image".
fn response(api_version: &str, auth: Option<&Auth>, now: i64) -> serde_json::Value {
    let mut response = serde_json::json!({
        "apiVersion": api_version,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Registry",
        "auth": {},
    });
    if let Some(auth) = auth {
        response["auth"][&auth.registry] = serde_json::json!({ "username": auth.username, "password": auth.password });
        if let Some(expires_at) = auth.expires_at {
            response["cacheDuration"] = serde_json::Value::String(go_duration(cache_seconds(expires_at, now)));
        }
    }
    response
}

/// How long the kubelet may cache credentials that expire at `expires_at`:
/// their remaining lifetime less a tenth of it (at least 30 s), so cached
/// credentials are never used in their last moments. Zero means "do not
/// cache"; with no expiry the kubelet's `defaultCacheDuration` applies.
fn cache_seconds(expires_at: i64, now: i64) -> i64 {
    let remaining = expires_at.saturating_sub(now);
    let margin = (remaining / 10).max(30);
    remaining.saturating_sub(margin).max(0)
}

/// A duration as Go's `time.Duration.String` writes it (`1h2m3s`, `4m0s`,
/// `30s`, `0s`), the form `metav1.Duration` reads.
fn go_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let enc = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!("{}.{}.{}", enc(br#"{"alg":"RS256"}"#), enc(claims.to_string().as_bytes()), enc(b"sig"))
    }

    #[test]
    fn parses_the_v1_request() {
        let request = parse_request(
            br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"myregistry.azurecr.io/app:v1"}"#,
        )
        .unwrap();
        assert_eq!(request.image, "myregistry.azurecr.io/app:v1");
        assert_eq!(request.service_account_token, None);
        assert!(matches!(identity(&request).unwrap(), (Identity::Controller, false)));
    }

    #[test]
    fn refuses_other_kinds_versions_and_garbage() {
        let wrong_version = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v2","kind":"CredentialProviderRequest","image":"r/a"}"#;
        assert!(format!("{:#}", parse_request(wrong_version).unwrap_err()).contains("apiVersion"));
        let wrong_kind = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Pod","image":"r/a"}"#;
        assert!(parse_request(wrong_kind).is_err());
        let no_image =
            br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":""}"#;
        assert!(parse_request(no_image).is_err());
        let truncated = br#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","serviceAccountToken":"hunter2"#;
        let message = format!("{:#}", parse_request(truncated).unwrap_err());
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn a_service_account_token_means_object_level_identity() {
        let token =
            jwt(serde_json::json!({"sub": "system:serviceaccount:team-a:puller", "aud": ["sts.amazonaws.com"]}));
        let body = serde_json::json!({
            "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
            "kind": "CredentialProviderRequest",
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
            "serviceAccountToken": token,
            "serviceAccountAnnotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/puller"},
        });
        let request = parse_request(body.to_string().as_bytes()).unwrap();
        let (identity, object_level) = identity(&request).unwrap();
        assert!(object_level);
        let Identity::ServiceAccount(sa) = identity else { panic!("expected a service account") };
        assert_eq!((sa.namespace.as_str(), sa.name.as_str()), ("team-a", "puller"));
        assert_eq!(
            sa.annotations,
            vec![("eks.amazonaws.com/role-arn".to_owned(), "arn:aws:iam::123456789012:role/puller".to_owned())]
        );
    }

    #[test]
    fn service_account_subjects_must_be_well_formed() {
        assert!(service_account_of("not-a-jwt").is_err());
        assert!(service_account_of("a.!!!.c").is_err());
        assert!(service_account_of(&jwt(serde_json::json!({"aud": "x"}))).is_err());
        assert!(service_account_of(&jwt(serde_json::json!({"sub": "system:serviceaccount:ns"}))).is_err());
        assert!(service_account_of(&jwt(serde_json::json!({"sub": "system:serviceaccount::name"}))).is_err());
        assert!(service_account_of(&jwt(serde_json::json!({"sub": "system:serviceaccount:a:b:c"}))).is_err());
        assert!(service_account_of(&jwt(serde_json::json!({"sub": "user:alice"}))).is_err());
    }

    #[test]
    fn the_response_is_keyed_by_registry_with_a_cache_duration() {
        let auth = Auth {
            registry: "127.0.0.1:5000".into(),
            username: "alice".into(),
            password: "token".into(),
            expires_at: Some(1_000 + 3600),
        };
        assert_eq!(
            response("credentialprovider.kubelet.k8s.io/v1", Some(&auth), 1_000),
            serde_json::json!({
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                "kind": "CredentialProviderResponse",
                "cacheKeyType": "Registry",
                "cacheDuration": "54m0s",
                "auth": {"127.0.0.1:5000": {"username": "alice", "password": "token"}},
            })
        );
    }

    #[test]
    fn without_expiry_there_is_no_cache_duration_and_without_credentials_no_auth() {
        let auth = Auth { registry: "r.example".into(), username: "u".into(), password: "p".into(), expires_at: None };
        let with = response("credentialprovider.kubelet.k8s.io/v1beta1", Some(&auth), 0);
        assert!(with.get("cacheDuration").is_none());
        assert_eq!(with["apiVersion"], "credentialprovider.kubelet.k8s.io/v1beta1");
        let without = response("credentialprovider.kubelet.k8s.io/v1", None, 0);
        assert_eq!(without["auth"], serde_json::json!({}));
        assert!(without.get("cacheDuration").is_none());
    }

    #[test]
    fn cache_durations() {
        assert_eq!(cache_seconds(3600, 0), 3240);
        assert_eq!(cache_seconds(300, 0), 270);
        assert_eq!(cache_seconds(20, 0), 0);
        assert_eq!(cache_seconds(0, 100), 0);
        assert_eq!(cache_seconds(i64::MIN, i64::MAX), 0);
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(45), "45s");
        assert_eq!(go_duration(240), "4m0s");
        assert_eq!(go_duration(3723), "1h2m3s");
        assert_eq!(go_duration(43200), "12h0m0s");
    }
}
