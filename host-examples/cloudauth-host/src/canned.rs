//! A fake cloud for `demo`: canned answers, by method, host and path, in
//! the shapes the real services send (those of the conformance cases).
//!
//! It stands in for Entra ID, Azure IMDS, ACR, AWS STS, ECR and ECR Public,
//! the GCE/GKE metadata server, Google STS and IAM Credentials, and any other
//! registry (the `/v2/` challenge and its token server, which knows one
//! account), and it mints the Kubernetes service-account tokens a host would
//! fetch. Like the real services, each one only accepts the credential the
//! previous step was given: Entra and AWS STS want a service-account token
//! this fake minted, for their audience; ACR wants an Entra token it issued;
//! ECR wants the STS session it issued (it checks the key id and session
//! token, not the SigV4 signature); IAM wants the federated token Google STS
//! issued; a token server wants the registry account, or no credentials. A
//! request it does not recognise is answered 404 with a warning, never
//! accepted.
//!
//! Every secret it hands out is fake and contains the word `FAKE` past its
//! first characters (the JWTs in their signature), so that output which
//! shows secrets redacted to a short prefix can be checked for leaks; the
//! ECR `authorizationToken` is the one exception: it is base64 of
//! `AWS:<password>`.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::component::api::types::{HttpRequest, HttpResponse};
use crate::plan::decode_form;

/// Found in every secret the fake cloud issues, past its first 8 characters.
#[cfg(test)]
const SECRET_MARKER: &str = "FAKE";

/// 2100-01-01T00:00:00Z: the expiry of the minted service-account tokens.
pub const FAR_FUTURE: i64 = 4_102_444_800;

/// The signature of every fake JWT: valid base64url, verifies nothing.
const FAKE_SIGNATURE: &str = "FAKE-SIGNATURE-cloudauth-demo-not-valid";

/// The audiences the services check the service-account token for.
const ENTRA_AUDIENCE: &str = "api://AzureADTokenExchange";
const AWS_STS_AUDIENCE: &str = "sts.amazonaws.com";

/// The temporary credentials the fake AWS STS hands out. The key id is not
/// a secret (it is printed in SigV4 headers); the other two are.
const AWS_ACCESS_KEY_ID: &str = "ASIAQCLOUDAUTHDEMO01";
const AWS_SECRET_ACCESS_KEY: &str = "demoSecretKey/FAKE/cloudauthDemoExample0";
const AWS_SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjFAKE-cloudauth-demo-session-token";
/// The password inside the fake ECR `authorizationToken`.
const ECR_PASSWORD: &str = "eyJwYXlsb2FkIjoiFAKE-cloudauth-demo-ecr-password";

/// The one account of the fake registries (the host's registry credentials).
pub const REGISTRY_USERNAME: &str = "demo-user";
pub const REGISTRY_PASSWORD: &str = "dckr_pat_FAKE-cloudauth-demo-password";

/// What the fake GKE metadata server says about its cluster.
pub const GKE_PROJECT: &str = "demo-project";
const GKE_LOCATION: &str = "europe-west1";
const GKE_CLUSTER: &str = "demo-cluster";

const GCE_METADATA_TOKEN: &str = "ya29.c.c0FAKE-cloudauth-demo-metadata-access-token";
const GOOGLE_FEDERATED_TOKEN: &str = "ya29.d.c0FAKE-cloudauth-demo-federated-access-token";
const GOOGLE_IMPERSONATED_TOKEN: &str = "ya29.c.c0FAKE-cloudauth-demo-impersonated-access-token";

/// Lifetimes, in seconds, as the real services give them.
const ENTRA_LIFETIME: i64 = 3599;
const IMDS_LIFETIME: i64 = 86_399;
const ACR_REFRESH_LIFETIME: i64 = 3 * 3600;
const STS_LIFETIME: i64 = 3600;
const ECR_LIFETIME: i64 = 12 * 3600;
const GOOGLE_LIFETIME: i64 = 3599;
const REGISTRY_TOKEN_LIFETIME: i64 = 300;

/// The fake cloud's answer to one request.
pub struct Answer {
    pub response: HttpResponse,
    /// Which service answered what, in a few words.
    pub what: String,
    /// Set when the request was not recognised (and answered 404).
    pub warning: Option<String>,
}

/// The fake cloud, with what it has issued so far.
#[derive(Default)]
pub struct FakeCloud {
    /// Service-account tokens minted, with their audience.
    identity_tokens: Vec<(String, String)>,
    /// Entra and IMDS access tokens issued.
    azure_tokens: Vec<String>,
    /// The account of the role AWS STS let the caller assume.
    aws_account: Option<String>,
    /// Google STS federated tokens issued.
    google_federated: Vec<String>,
    /// Every secret issued, for the demo to redact.
    secrets: Vec<String>,
}

impl FakeCloud {
    /// A fake cloud; the registry password counts among its secrets.
    pub fn new() -> Self {
        let mut cloud = Self::default();
        cloud.issue(REGISTRY_PASSWORD.to_owned());
        cloud
    }

    /// Every secret handed out so far.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    fn issue(&mut self, secret: String) -> String {
        if !self.secrets.contains(&secret) {
            self.secrets.push(secret.clone());
        }
        secret
    }

    /// Mints the Kubernetes service-account token a host would fetch: for
    /// `service_account` (namespace, name), with `audience`, expiring far in
    /// the future, with a fake signature.
    pub fn identity_token(&mut self, audience: &str, service_account: (&str, &str), now: i64) -> String {
        let (namespace, name) = service_account;
        let token = jwt(&json!({
            "aud": [audience],
            "exp": FAR_FUTURE,
            "iat": now,
            "nbf": now,
            "iss": "https://kubernetes.default.svc.cluster.local",
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name}},
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
        }));
        self.identity_tokens.push((token.clone(), audience.to_owned()));
        self.issue(token)
    }

    /// The audience of a token this fake minted, if it did.
    fn minted_for(&self, token: &str) -> Option<&str> {
        self.identity_tokens.iter().find(|(t, _)| t == token).map(|(_, audience)| audience.as_str())
    }

    /// Answers `request` as the real service would.
    pub fn answer(&mut self, request: &HttpRequest, now: i64) -> Answer {
        let Some(url) = Url::parse(&request.url) else { return unknown(request) };
        let metadata = matches!(url.host.as_str(), "169.254.169.254" | "metadata.google.internal");
        // Metadata servers speak plain HTTP on a link-local address; every
        // cloud service wants HTTPS.
        if url.scheme != if metadata { "http" } else { "https" } {
            return unknown(request);
        }
        let host = url.host.as_str();
        match (request.method.as_str(), url.path) {
            ("POST", path) if is_entra(host) && path.ends_with("/oauth2/v2.0/token") => self.entra(request, path, now),
            ("GET", "/metadata/identity/oauth2/token") if host == "169.254.169.254" => {
                self.azure_imds(request, url.query, now)
            }
            ("POST", "/oauth2/exchange") if is_acr(host) => self.acr_exchange(request, host, now),
            ("POST", "/") if is_aws(host, &["sts", "sts-fips"]) => self.aws_sts(request, now),
            ("POST", "/") if is_aws(host, &["api.ecr", "api.ecr-fips"]) => self.ecr(request, false, host, now),
            ("POST", "/") if host == "api.ecr-public.us-east-1.amazonaws.com" => self.ecr(request, true, host, now),
            ("GET", path) if host == "metadata.google.internal" => self.google_metadata(request, path),
            ("POST", "/v1/token") if host == "sts.googleapis.com" => self.google_sts(request),
            ("POST", path) if host == "iamcredentials.googleapis.com" => self.iam(request, path, now),
            ("GET", "/v2/") if !is_cloud_service(host) => registry_challenge(&url.authority),
            ("GET", "/token") if !is_cloud_service(host) => self.registry_token(request, url.query, now),
            _ => unknown(request),
        }
    }

    // ------------------------------------------------------------ Azure

    fn entra(&mut self, request: &HttpRequest, path: &str, now: i64) -> Answer {
        let form = form(request);
        let tenant = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        let assertion = field(&form, "client_assertion").unwrap_or_default();
        let wanted = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ];
        if wanted.iter().any(|(k, v)| field(&form, k) != Some(v)) {
            return oauth2_error(
                400,
                "invalid_request",
                "AADSTS900144: the request body is not a client-assertion grant.",
            );
        }
        if self.minted_for(assertion) != Some(ENTRA_AUDIENCE) {
            return oauth2_error(
                400,
                "invalid_client",
                "AADSTS700213: No matching federated identity record found for presented assertion.",
            );
        }
        let (Some(client_id), Some(scope)) = (field(&form, "client_id"), field(&form, "scope")) else {
            return oauth2_error(400, "invalid_request", "AADSTS900144: client_id and scope are required.");
        };
        let token = self.azure_token(scope, tenant, client_id, now, ENTRA_LIFETIME);
        let body = json!({
            "token_type": "Bearer",
            "expires_in": ENTRA_LIFETIME,
            "ext_expires_in": ENTRA_LIFETIME,
            "access_token": token,
        });
        json_answer(200, &body, "Entra ID: an access token for the workload identity")
    }

    fn azure_imds(&mut self, request: &HttpRequest, query: &str, now: i64) -> Answer {
        if header(request, "Metadata") != Some("true") {
            return oauth2_error(400, "invalid_request", "Required metadata header not specified");
        }
        let query = decode_form(query);
        let Some(resource) = field(&query, "resource") else {
            return oauth2_error(400, "invalid_request", "Required query variable 'resource' is missing");
        };
        let client_id = field(&query, "client_id").unwrap_or("f0f0f0f0-aaaa-4bbb-8ccc-dddddddddddd").to_owned();
        let token = self.azure_token(resource, "demo-tenant", &client_id, now, IMDS_LIFETIME);
        let body = json!({
            "access_token": token,
            "client_id": client_id,
            "expires_in": IMDS_LIFETIME.to_string(),
            "expires_on": (now + IMDS_LIFETIME).to_string(),
            "ext_expires_in": IMDS_LIFETIME.to_string(),
            "not_before": now.to_string(),
            "resource": resource,
            "token_type": "Bearer",
        });
        json_answer(200, &body, "Azure IMDS: an access token for the managed identity")
    }

    /// An Entra access token (a JWT) for `scope`.
    fn azure_token(&mut self, scope: &str, tenant: &str, client_id: &str, now: i64, lifetime: i64) -> String {
        let token = jwt(&json!({
            "aud": scope.trim_end_matches("/.default"),
            "iss": format!("https://sts.windows.net/{tenant}/"),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client_id,
            "tid": tenant,
            "ver": "1.0",
        }));
        self.azure_tokens.push(token.clone());
        self.issue(token)
    }

    fn acr_exchange(&mut self, request: &HttpRequest, host: &str, now: i64) -> Answer {
        let form = form(request);
        let token = field(&form, "access_token").unwrap_or_default();
        if field(&form, "grant_type") != Some("access_token")
            || field(&form, "service") != Some(host)
            || !self.azure_tokens.iter().any(|t| t == token)
        {
            return json_answer(
                401,
                &json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}),
                "ACR: unauthorized",
            );
        }
        let refresh = self.issue(jwt(&json!({
            "jti": "7f3a3c2e-0000-4000-8000-00000000demo",
            "sub": "00000000-0000-4000-8000-0000000000aa",
            "nbf": now,
            "exp": now + ACR_REFRESH_LIFETIME,
            "iat": now,
            "iss": "Azure Container Registry",
            "aud": host,
            "version": "1.0",
            "grant_type": "refresh_token",
            "permissions": {"actions": ["*"], "notActions": []},
        })));
        json_answer(200, &json!({"refresh_token": refresh}), "ACR: a refresh token for the registry")
    }

    // ------------------------------------------------------------ AWS

    fn aws_sts(&mut self, request: &HttpRequest, now: i64) -> Answer {
        let form = form(request);
        if field(&form, "Action") != Some("AssumeRoleWithWebIdentity") || field(&form, "Version") != Some("2011-06-15")
        {
            return aws_query_error(400, "InvalidAction", "Could not find operation for this request.");
        }
        let token = field(&form, "WebIdentityToken").unwrap_or_default();
        if self.minted_for(token) != Some(AWS_STS_AUDIENCE) {
            return aws_query_error(400, "InvalidIdentityToken", "Incorrect token audience or unknown token issuer.");
        }
        let role_arn = field(&form, "RoleArn").unwrap_or_default();
        let session = field(&form, "RoleSessionName").unwrap_or_default();
        let (Some(account), Some(role)) = (role_arn.split(':').nth(4), role_arn.split_once(":role/").map(|(_, r)| r))
        else {
            return aws_query_error(400, "ValidationError", "RoleArn is not a role ARN.");
        };
        self.aws_account = Some(account.to_owned());
        self.issue(AWS_SECRET_ACCESS_KEY.to_owned());
        self.issue(AWS_SESSION_TOKEN.to_owned());
        let body = format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
             \x20 <AssumeRoleWithWebIdentityResult>\n\
             \x20   <Audience>{AWS_STS_AUDIENCE}</Audience>\n\
             \x20   <AssumedRoleUser>\n\
             \x20     <AssumedRoleId>AROAQCLOUDAUTHDEMO001:{session}</AssumedRoleId>\n\
             \x20     <Arn>arn:aws:sts::{account}:assumed-role/{role}/{session}</Arn>\n\
             \x20   </AssumedRoleUser>\n\
             \x20   <Credentials>\n\
             \x20     <AccessKeyId>{AWS_ACCESS_KEY_ID}</AccessKeyId>\n\
             \x20     <SecretAccessKey>{AWS_SECRET_ACCESS_KEY}</SecretAccessKey>\n\
             \x20     <SessionToken>{AWS_SESSION_TOKEN}</SessionToken>\n\
             \x20     <Expiration>{expiration}</Expiration>\n\
             \x20   </Credentials>\n\
             \x20 </AssumeRoleWithWebIdentityResult>\n\
             \x20 <ResponseMetadata>\n\
             \x20   <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n\
             \x20 </ResponseMetadata>\n\
             </AssumeRoleWithWebIdentityResponse>\n",
            session = xml_escape(session),
            account = xml_escape(account),
            role = xml_escape(role),
            expiration = rfc3339(now + STS_LIFETIME),
        );
        text_answer(200, "text/xml", body, "AWS STS: temporary credentials for the role")
    }

    fn ecr(&mut self, request: &HttpRequest, public: bool, host: &str, now: i64) -> Answer {
        let (target, service) = if public {
            ("SpencerFrontendService.GetAuthorizationToken", "ECR Public")
        } else {
            ("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "ECR")
        };
        if header(request, "X-Amz-Target") != Some(target) {
            return aws_json_error(400, "UnknownOperationException", "unknown operation");
        }
        let signed_by_sts_key = header(request, "Authorization")
            .is_some_and(|a| a.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}/")));
        let Some(account) = self
            .aws_account
            .clone()
            .filter(|_| signed_by_sts_key && header(request, "X-Amz-Security-Token") == Some(AWS_SESSION_TOKEN))
        else {
            return aws_json_error(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            );
        };
        let password = self.issue(ECR_PASSWORD.to_owned());
        let authorization = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}"));
        let authorization = self.issue(authorization);
        let expires_at = (now + ECR_LIFETIME) as f64;
        let body = if public {
            json!({"authorizationData": {"authorizationToken": authorization, "expiresAt": expires_at}})
        } else {
            let region = host.trim_start_matches("api.ecr-fips.").trim_start_matches("api.ecr.");
            let region = region.split('.').next().unwrap_or_default();
            json!({"authorizationData": [{
                "authorizationToken": authorization,
                "expiresAt": expires_at,
                "proxyEndpoint": format!("https://{account}.dkr.ecr.{region}.amazonaws.com"),
            }]})
        };
        let mut answer = json_answer(200, &body, &format!("{service}: a docker login token"));
        answer.response.headers = vec![("Content-Type".into(), "application/x-amz-json-1.1".into())];
        answer
    }

    // ------------------------------------------------------------ Google

    fn google_metadata(&mut self, request: &HttpRequest, path: &str) -> Answer {
        if header(request, "Metadata-Flavor") != Some("Google") {
            return text_answer(403, "text/html", "Missing Metadata-Flavor:Google header.".into(), "metadata: refused");
        }
        let value = |v: &str, what: &str| {
            let mut answer = text_answer(200, "application/text", v.to_owned(), what);
            answer.response.headers.push(("Metadata-Flavor".into(), "Google".into()));
            answer
        };
        match path.strip_prefix("/computeMetadata/v1/") {
            Some("instance/service-accounts/default/token") => {
                let token = self.issue(GCE_METADATA_TOKEN.to_owned());
                let body = json!({"access_token": token, "expires_in": GOOGLE_LIFETIME, "token_type": "Bearer"});
                json_answer(200, &body, "GCE metadata: an access token for the node's service account")
            }
            Some("project/project-id") => value(GKE_PROJECT, "GKE metadata: the project ID"),
            Some("instance/attributes/cluster-location") => value(GKE_LOCATION, "GKE metadata: the cluster location"),
            Some("instance/attributes/cluster-name") => value(GKE_CLUSTER, "GKE metadata: the cluster name"),
            _ => unknown(request),
        }
    }

    fn google_sts(&mut self, request: &HttpRequest) -> Answer {
        let form = form(request);
        if field(&form, "grant_type") != Some("urn:ietf:params:oauth:grant-type:token-exchange") {
            return oauth2_error(400, "unsupported_grant_type", "The grant type is not supported.");
        }
        let audience = field(&form, "audience").unwrap_or_default();
        let subject = field(&form, "subject_token").unwrap_or_default();
        // The token's audience is the pool provider, or on GKE the pool
        // (`identitynamespace:<pool>:<cluster URL>` names both).
        let matches = self.minted_for(subject).is_some_and(|aud| {
            aud == audience
                || audience.strip_prefix("identitynamespace:").and_then(|r| r.split_once(':')).map(|(pool, _)| pool)
                    == Some(aud)
        });
        if !matches {
            return oauth2_error(
                400,
                "invalid_grant",
                "The audience in ID Token does not match the expected audience.",
            );
        }
        let token = self.issue(GOOGLE_FEDERATED_TOKEN.to_owned());
        self.google_federated.push(token.clone());
        let body = json!({
            "access_token": token,
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer",
            "expires_in": GOOGLE_LIFETIME,
        });
        json_answer(200, &body, "Google STS: a federated access token")
    }

    fn iam(&mut self, request: &HttpRequest, path: &str, now: i64) -> Answer {
        let Some(email) = path
            .strip_prefix("/v1/projects/-/serviceAccounts/")
            .and_then(|p| p.strip_suffix(":generateAccessToken"))
            .filter(|e| e.ends_with(".iam.gserviceaccount.com"))
        else {
            return unknown(request);
        };
        let bearer = header(request, "Authorization").and_then(|a| a.strip_prefix("Bearer "));
        if !bearer.is_some_and(|b| self.google_federated.iter().any(|t| t == b)) {
            let body = json!({"error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
            }});
            return json_answer(401, &body, "IAM Credentials: unauthenticated");
        }
        let token = self.issue(GOOGLE_IMPERSONATED_TOKEN.to_owned());
        let body = json!({"accessToken": token, "expireTime": rfc3339(now + 3600)});
        json_answer(200, &body, &format!("IAM Credentials: an access token for {email}"))
    }

    // ------------------------------------------------------------ registries

    fn registry_token(&mut self, request: &HttpRequest, query: &str, now: i64) -> Answer {
        let account = format!("{REGISTRY_USERNAME}:{REGISTRY_PASSWORD}");
        let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(account));
        let (subject, what) = match header(request, "Authorization") {
            None => ("", "token server: an anonymous pull token".to_owned()),
            Some(given) if given == basic => {
                (REGISTRY_USERNAME, format!("token server: a pull token for {REGISTRY_USERNAME}"))
            }
            Some(_) => {
                let body = json!({"errors": [{"code": "UNAUTHORIZED", "message": "incorrect username or password"}]});
                return json_answer(401, &body, "token server: unauthorized");
            }
        };
        let query = decode_form(query);
        let scope = field(&query, "scope").unwrap_or_default();
        let access: Vec<Value> = scope
            .split(' ')
            .filter_map(|s| s.strip_prefix("repository:"))
            .filter_map(|s| s.rsplit_once(':'))
            .map(|(name, actions)| {
                let actions: Vec<&str> = actions.split(',').collect();
                json!({"type": "repository", "name": name, "actions": actions})
            })
            .collect();
        let token = self.issue(jwt(&json!({
            "iss": "cloudauth-demo-token-server",
            "sub": subject,
            "aud": field(&query, "service").unwrap_or_default(),
            "exp": now + REGISTRY_TOKEN_LIFETIME,
            "nbf": now,
            "iat": now,
            "access": access,
        })));
        let body = json!({
            "token": token,
            "access_token": token,
            "expires_in": REGISTRY_TOKEN_LIFETIME,
            "issued_at": rfc3339(now),
        });
        json_answer(200, &body, &what)
    }
}

/// The `/v2/` answer of a registry that wants a token: 401 and where to get
/// one. Docker Hub's API host names its separate token server.
fn registry_challenge(authority: &str) -> Answer {
    let (realm, service) = if authority == "registry-1.docker.io" {
        ("https://auth.docker.io/token".to_owned(), "registry.docker.io".to_owned())
    } else {
        (format!("https://{authority}/token"), authority.to_owned())
    };
    let mut answer = json_answer(
        401,
        &json!({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": null}]}),
        "registry: 401, get a token from the realm",
    );
    answer.response.headers.extend([
        ("WWW-Authenticate".to_owned(), format!("Bearer realm=\"{realm}\",service=\"{service}\"")),
        ("Docker-Distribution-API-Version".to_owned(), "registry/2.0".to_owned()),
    ]);
    answer
}

// ---------------------------------------------------------------- hosts

const ENTRA_HOSTS: &[&str] = &["login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us"];
const ACR_SUFFIXES: &[&str] = &[".azurecr.io", ".azurecr.cn", ".azurecr.us"];
const AWS_SUFFIXES: &[&str] = &[".amazonaws.com", ".amazonaws.com.cn"];

fn is_entra(host: &str) -> bool {
    ENTRA_HOSTS.contains(&host)
}

fn is_acr(host: &str) -> bool {
    ACR_SUFFIXES.iter().any(|s| host.strip_suffix(s).is_some_and(|name| !name.is_empty() && !name.contains('.')))
}

/// `<service>.amazonaws.com` (STS's global endpoint) or
/// `<service>.<region>.amazonaws.com[.cn]`.
fn is_aws(host: &str, services: &[&str]) -> bool {
    services.iter().any(|service| {
        AWS_SUFFIXES.iter().any(|suffix| match host.strip_suffix(suffix).and_then(|h| h.strip_prefix(service)) {
            Some("") => *service == "sts",
            Some(region) => region.strip_prefix('.').is_some_and(|r| !r.is_empty() && !r.contains('.')),
            None => false,
        })
    })
}

/// Hosts of the cloud services above: never answered as a registry.
fn is_cloud_service(host: &str) -> bool {
    is_entra(host)
        || AWS_SUFFIXES.iter().any(|s| host.ends_with(s))
        || host.ends_with(".googleapis.com")
        || matches!(host, "169.254.169.254" | "metadata.google.internal")
}

// ---------------------------------------------------------------- requests

/// The parts of a URL the fake cloud routes on.
struct Url<'a> {
    scheme: &'a str,
    /// `host[:port]` as written.
    authority: String,
    /// Lower case, without the port.
    host: String,
    path: &'a str,
    query: &'a str,
}

impl<'a> Url<'a> {
    fn parse(url: &'a str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        let rest = rest.split('#').next().unwrap_or_default();
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        };
        let path = if path.is_empty() { "/" } else { path };
        Some(Url { scheme, authority: authority.to_ascii_lowercase(), host: host.to_ascii_lowercase(), path, query })
    }
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn form(request: &HttpRequest) -> Vec<(String, String)> {
    let form_type = header(request, "Content-Type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form_type { decode_form(&String::from_utf8_lossy(&request.body)) } else { Vec::new() }
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------- answers

fn text_answer(status: u16, content_type: &str, body: String, what: &str) -> Answer {
    Answer {
        response: HttpResponse {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into_bytes(),
        },
        what: what.to_owned(),
        warning: None,
    }
}

fn json_answer(status: u16, body: &Value, what: &str) -> Answer {
    text_answer(status, "application/json", body.to_string(), what)
}

fn oauth2_error(status: u16, error: &str, description: &str) -> Answer {
    json_answer(status, &json!({"error": error, "error_description": description}), &format!("error: {error}"))
}

fn aws_query_error(status: u16, code: &str, message: &str) -> Answer {
    let body = format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
         \x20 <Error>\n\
         \x20   <Type>Sender</Type>\n\
         \x20   <Code>{code}</Code>\n\
         \x20   <Message>{message}</Message>\n\
         \x20 </Error>\n\
         \x20 <RequestId>d7e1f2a3-0000-4000-8000-000000000001</RequestId>\n\
         </ErrorResponse>\n"
    );
    text_answer(status, "text/xml", body, &format!("error: {code}"))
}

fn aws_json_error(status: u16, code: &str, message: &str) -> Answer {
    let mut answer = json_answer(status, &json!({"__type": code, "message": message}), &format!("error: {code}"));
    answer.response.headers = vec![("Content-Type".into(), "application/x-amz-json-1.1".into())];
    answer
}

/// 404 for anything the fake cloud does not know, with a warning: it is a
/// request no real service would answer either.
fn unknown(request: &HttpRequest) -> Answer {
    // Scheme, host and path only: a query may carry a presigned signature.
    let url = request.url.split(['?', '#']).next().unwrap_or_default();
    let mut answer = text_answer(404, "text/plain", "404 page not found\n".into(), "not found");
    answer.warning = Some(format!("the fake cloud does not know {} {url}: answered 404", request.method));
    answer
}

// ---------------------------------------------------------------- formats

/// A JWT with `claims` and the fake signature.
fn jwt(claims: &Value) -> String {
    let encode = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "cloudauth-demo"});
    format!("{}.{}.{FAKE_SIGNATURE}", encode(&header), encode(claims))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Unix seconds as RFC 3339 UTC (`2024-01-15T12:00:00Z`); a time outside
/// years 0..=9999 as `@<seconds>`.
pub fn rfc3339(unix: i64) -> String {
    const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if !(MIN..=MAX).contains(&unix) {
        return format!("@{unix}");
    }
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_705_320_000;

    fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
        HttpRequest {
            method: method.into(),
            url: url.into(),
            headers: headers.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn post_form(url: &str, pairs: &[(&str, &str)]) -> HttpRequest {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A").replace('/', "%2F").replace(' ', "+")))
            .collect();
        request("POST", url, &[("Content-Type", "application/x-www-form-urlencoded")], &body.join("&"))
    }

    fn body(answer: &Answer) -> Value {
        serde_json::from_slice(&answer.response.body).expect("a JSON body")
    }

    fn entra(assertion: &str) -> HttpRequest {
        post_form(
            "https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-000000000001/oauth2/v2.0/token",
            &[
                ("client_assertion", assertion),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_id", "cccccccc-0000-4000-8000-000000000002"),
                ("grant_type", "client_credentials"),
                ("scope", "https://containerregistry.azure.net/.default"),
            ],
        )
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(NOW), "2024-01-15T12:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(FAR_FUTURE), "2100-01-01T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), format!("@{}", i64::MAX));
        assert_eq!(rfc3339(i64::MIN), format!("@{}", i64::MIN));
    }

    #[test]
    fn unknown_requests_are_404_with_a_warning() {
        let mut cloud = FakeCloud::new();
        for (method, url) in [
            ("GET", "https://login.microsoftonline.com/t/oauth2/v2.0/token"),
            ("POST", "https://login.microsoftonline.com.evil.example/t/oauth2/v2.0/token"),
            ("POST", "http://login.microsoftonline.com/t/oauth2/v2.0/token"),
            ("POST", "https://sts.evil.example/"),
            ("GET", "https://169.254.169.254/metadata/identity/oauth2/token"),
            ("GET", "http://metadata.google.internal/computeMetadata/v1/instance/attributes/kube-env"),
            ("GET", "https://login.microsoftonline.com/v2/"),
            ("GET", "https://sts.us-east-1.amazonaws.com/token?scope=x"),
            (
                "POST",
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/a@b.example:generateAccessToken",
            ),
            ("GET", "not a url"),
            ("GET", "https://user@ghcr.io/v2/"),
        ] {
            let answer = cloud.answer(&request(method, url, &[("Metadata-Flavor", "Google")], ""), NOW);
            assert_eq!(answer.response.status, 404, "{method} {url}");
            let warning = answer.warning.unwrap_or_default();
            assert!(warning.contains("does not know"), "{method} {url}: {warning}");
        }
        let presigned = request("GET", "https://x.example/nope?X-Amz-Signature=abc", &[], "");
        assert!(!cloud.answer(&presigned, NOW).warning.unwrap_or_default().contains("abc"));
    }

    #[test]
    fn entra_wants_a_minted_token_for_its_audience() {
        let mut cloud = FakeCloud::new();
        let stranger = jwt(&json!({"aud": [ENTRA_AUDIENCE], "exp": FAR_FUTURE}));
        let refused = cloud.answer(&entra(&stranger), NOW);
        assert_eq!((refused.response.status, body(&refused)["error"].clone()), (400, json!("invalid_client")));
        let wrong_audience = cloud.identity_token(AWS_STS_AUDIENCE, ("default", "app"), NOW);
        assert_eq!(cloud.answer(&entra(&wrong_audience), NOW).response.status, 400);

        let token = cloud.identity_token(ENTRA_AUDIENCE, ("default", "app"), NOW);
        let answer = cloud.answer(&entra(&token), NOW);
        assert_eq!(answer.response.status, 200);
        assert_eq!(body(&answer)["expires_in"], ENTRA_LIFETIME);
        let access = body(&answer)["access_token"].as_str().unwrap_or_default().to_owned();

        // ACR takes that token, and no other.
        let exchange = |token: &str| {
            post_form(
                "https://myregistry.azurecr.io/oauth2/exchange?api-version=2021-07-01",
                &[("access_token", token), ("grant_type", "access_token"), ("service", "myregistry.azurecr.io")],
            )
        };
        assert_eq!(cloud.answer(&exchange(&token), NOW).response.status, 401);
        let answer = cloud.answer(&exchange(&access), NOW);
        assert_eq!(answer.response.status, 200);
        assert!(body(&answer)["refresh_token"].as_str().is_some_and(|t| t.ends_with(FAKE_SIGNATURE)));
    }

    #[test]
    fn ecr_wants_the_sts_session() {
        let mut cloud = FakeCloud::new();
        let ecr = |token: &str| {
            request(
                "POST",
                "https://api.ecr.us-east-1.amazonaws.com/",
                &[
                    ("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"),
                    (
                        "Authorization",
                        &format!(
                            "AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}/20240115/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=00"
                        ),
                    ),
                    ("X-Amz-Security-Token", token),
                ],
                "{}",
            )
        };
        // Before STS issued the session, ECR does not know it.
        assert_eq!(cloud.answer(&ecr(AWS_SESSION_TOKEN), NOW).response.status, 400);

        let token = cloud.identity_token(AWS_STS_AUDIENCE, ("default", "app"), NOW);
        let sts = post_form(
            "https://sts.us-east-1.amazonaws.com/",
            &[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("RoleArn", "arn:aws:iam::123456789012:role/app"),
                ("RoleSessionName", "app.default.us-east-1.fluxcd.io"),
                ("Version", "2011-06-15"),
                ("WebIdentityToken", &token),
            ],
        );
        let answer = cloud.answer(&sts, NOW);
        assert_eq!(answer.response.status, 200);
        let xml = String::from_utf8_lossy(&answer.response.body).into_owned();
        assert!(xml.contains("<Expiration>2024-01-15T13:00:00Z</Expiration>"), "{xml}");

        assert_eq!(cloud.answer(&ecr("other"), NOW).response.status, 400);
        let answer = cloud.answer(&ecr(AWS_SESSION_TOKEN), NOW);
        assert_eq!(answer.response.status, 200);
        assert_eq!(
            body(&answer)["authorizationData"][0]["proxyEndpoint"],
            "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"
        );
    }

    #[test]
    fn google_chain() {
        let mut cloud = FakeCloud::new();
        let md = |path: &str, flavor: &str| {
            request(
                "GET",
                &format!("http://metadata.google.internal/computeMetadata/v1/{path}"),
                &[("Metadata-Flavor", flavor)],
                "",
            )
        };
        assert_eq!(cloud.answer(&md("project/project-id", "Other"), NOW).response.status, 403);
        assert_eq!(cloud.answer(&md("project/project-id", "Google"), NOW).response.body, GKE_PROJECT.as_bytes());
        let token = cloud.answer(&md("instance/service-accounts/default/token?scopes=x", "Google"), NOW);
        assert_eq!(body(&token)["access_token"], GCE_METADATA_TOKEN);

        let pool = format!("{GKE_PROJECT}.svc.id.goog");
        let subject = cloud.identity_token(&pool, ("default", "app"), NOW);
        let exchange = |audience: &str| {
            post_form(
                "https://sts.googleapis.com/v1/token",
                &[
                    ("audience", audience),
                    ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                    ("subject_token", &subject),
                ],
            )
        };
        assert_eq!(cloud.answer(&exchange("identitynamespace:other.svc.id.goog:https://x"), NOW).response.status, 400);
        let federated =
            cloud.answer(&exchange(&format!("identitynamespace:{pool}:https://container.googleapis.com/v1/x")), NOW);
        assert_eq!(body(&federated)["access_token"], GOOGLE_FEDERATED_TOKEN);

        let iam = |bearer: &str| {
            request(
                "POST",
                "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/app@demo-project.iam.gserviceaccount.com:generateAccessToken",
                &[("Authorization", &format!("Bearer {bearer}"))],
                "{}",
            )
        };
        assert_eq!(cloud.answer(&iam(GCE_METADATA_TOKEN), NOW).response.status, 401);
        let answer = cloud.answer(&iam(GOOGLE_FEDERATED_TOKEN), NOW);
        assert_eq!(body(&answer)["expireTime"], "2024-01-15T13:00:00Z");
    }

    #[test]
    fn registries_challenge_then_give_a_token() {
        let mut cloud = FakeCloud::new();
        let ping = cloud.answer(&request("GET", "https://ghcr.io/v2/", &[], ""), NOW);
        assert_eq!(ping.response.status, 401);
        let challenge = ping.response.headers.iter().find(|(n, _)| n == "WWW-Authenticate").map(|(_, v)| v.clone());
        assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="https://ghcr.io/token",service="ghcr.io""#));
        let hub = cloud.answer(&request("GET", "https://registry-1.docker.io/v2/", &[], ""), NOW);
        assert!(hub.response.headers.iter().any(|(_, v)| v.contains(r#"realm="https://auth.docker.io/token""#)));

        let url = "https://ghcr.io/token?scope=repository%3Ao%2Fapp%3Apull&service=ghcr.io";
        let wrong = base64::engine::general_purpose::STANDARD.encode(format!("{REGISTRY_USERNAME}:nope"));
        let refused = cloud.answer(&request("GET", url, &[("Authorization", &format!("Basic {wrong}"))], ""), NOW);
        assert_eq!(refused.response.status, 401);
        let anonymous = cloud.answer(&request("GET", url, &[], ""), NOW);
        assert_eq!((anonymous.response.status, anonymous.what.contains("anonymous")), (200, true));
        let account =
            base64::engine::general_purpose::STANDARD.encode(format!("{REGISTRY_USERNAME}:{REGISTRY_PASSWORD}"));
        let answer = cloud.answer(&request("GET", url, &[("Authorization", &format!("Basic {account}"))], ""), NOW);
        assert_eq!(answer.what, "token server: a pull token for demo-user");
        assert_eq!(body(&answer)["expires_in"], REGISTRY_TOKEN_LIFETIME);
        let token = body(&answer)["token"].as_str().unwrap_or_default().to_owned();
        let claims = token.split('.').nth(1).unwrap_or_default();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap_or_default(),
        )
        .unwrap_or_default();
        assert_eq!(claims["access"], json!([{"type": "repository", "name": "o/app", "actions": ["pull"]}]));
    }

    #[test]
    fn every_secret_carries_the_marker_past_its_prefix() {
        let mut cloud = FakeCloud::new();
        cloud.identity_token(ENTRA_AUDIENCE, ("default", "app"), NOW);
        cloud.azure_token("https://containerregistry.azure.net/.default", "t", "c", NOW, 60);
        cloud.registry_token(&request("GET", "https://r.example/token", &[], ""), "scope=repository%3Aa%3Apull", NOW);
        for secret in [
            AWS_SECRET_ACCESS_KEY,
            AWS_SESSION_TOKEN,
            ECR_PASSWORD,
            GCE_METADATA_TOKEN,
            GOOGLE_FEDERATED_TOKEN,
            GOOGLE_IMPERSONATED_TOKEN,
        ] {
            cloud.issue(secret.to_owned());
        }
        assert_eq!(cloud.secrets().len(), 10);
        for secret in cloud.secrets() {
            let marker = secret.find(SECRET_MARKER);
            assert!(marker.is_some_and(|at| at >= 8), "{secret}");
        }
        assert!(!AWS_ACCESS_KEY_ID.contains(SECRET_MARKER), "the key id is printed");
    }
}
