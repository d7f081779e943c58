//! GKE: the cluster resource name, and the Kubernetes Engine API call Flux
//! makes when the API server address or CA is not given.
//!
//! Flux (`auth/gcp/provider.go`, `NewRESTConfig`) calls
//! `container.projects.locations.clusters.get` through Google's Go client,
//! which sends `GET https://container.googleapis.com/v1/<name>?alt=json&prettyPrint=false`
//! with the access token as a bearer token; the same token is the REST
//! config's. The answer's `endpoint` is a bare IP address or host, which
//! becomes `https://<endpoint>` here (Flux hands it to client-go bare, and
//! client-go adds the scheme); `masterAuth.clusterCaCertificate` is base64 PEM.
//!
//! Flux accepts only the relative name `projects/<p>/locations/<l>/clusters/<c>`
//! (not the `//container.googleapis.com/...` full resource name), and so
//! does cloudauth.

use serde_json::Value;

use super::{Discovered, decode_ca_data, discovered_address, quote, wrap_error};
use crate::error::{Error, Result};
use crate::host::check_dns_name;
use crate::http::{HttpRequest, HttpResponse};
use crate::response::{ErrorFormat, json_object, opt_object, opt_str};
use crate::secret::Secret;

/// Flux's pattern for the name, quoted in its error message. cloudauth
/// checks each segment more strictly (see [`ClusterName::parse`]).
const CLUSTER_PATTERN: &str = "^projects/[^/]{1,200}/locations/[^/]{1,200}/clusters/[^/]{1,200}$";

/// The Kubernetes Engine API, v1.
const CONTAINER_API: &str = "https://container.googleapis.com/v1";

/// A GKE cluster: `projects/<project>/locations/<location>/clusters/<cluster>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterName {
    name: String,
    project: String,
    location: String,
    cluster: String,
}

impl ClusterName {
    /// Parses a name. Each segment must follow Google Cloud's rules, since
    /// it goes into the request path unescaped: the project is a project ID
    /// (6 to 30 of lower-case letters, digits and `-`, starting with a
    /// letter, not ending with `-`), a domain-scoped one (`example.com:id`)
    /// or a project number; the location a region or zone (lower-case
    /// letters, digits, `-`); the cluster 1 to 40 of lower-case letters,
    /// digits and `-`, starting with a letter, not ending with `-`.
    pub fn parse(name: &str) -> Result<Self> {
        let shape =
            || Error::invalid(format!("invalid GKE cluster ID: '{}'. must match {CLUSTER_PATTERN}", quote(name)));
        let segments: Vec<&str> = name.split('/').collect();
        let ["projects", project, "locations", location, "clusters", cluster] = segments.as_slice() else {
            return Err(shape());
        };
        let bad = |why: &str| Error::invalid(format!("invalid GKE cluster ID: '{}': {why}", quote(name)));
        if !is_project(project) {
            return Err(bad("the project is not a project ID or number"));
        }
        if !is_location(location) {
            return Err(bad("the location is not a region or zone"));
        }
        if !is_lower_name(cluster, 1, 40) {
            return Err(bad("the cluster name is not valid"));
        }
        Ok(ClusterName {
            name: name.to_owned(),
            project: (*project).to_owned(),
            location: (*location).to_owned(),
            cluster: (*cluster).to_owned(),
        })
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }
}

/// A lower-case name: letters, digits, `-`; starts with a letter, does not
/// end with `-`.
fn is_lower_name(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
}

fn is_project(s: &str) -> bool {
    if !s.is_empty() && s.len() <= 30 && s.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match s.split_once(':') {
        Some((domain, id)) => check_dns_name(domain).is_ok() && is_lower_name(id, 1, 30),
        None => is_lower_name(s, 6, 30),
    }
}

fn is_location(s: &str) -> bool {
    is_lower_name(s, 2, 63)
}

/// `GET` of the cluster, with the Google access token.
pub fn get_cluster_request(name: &ClusterName, token: &Secret) -> Result<HttpRequest> {
    if token.is_empty() {
        return Err(Error::invalid("the Google access token is empty"));
    }
    HttpRequest::get(format!("{CONTAINER_API}/{}?alt=json&prettyPrint=false", name.as_str()))
        .header("Authorization", format!("Bearer {}", token.expose()))
}

/// The fields of a `Cluster` that are read.
struct Cluster<'a> {
    endpoint: Option<&'a str>,
    /// `masterAuth.clusterCaCertificate`.
    ca_certificate: Option<&'a str>,
    status: Option<&'a str>,
}

fn cluster_fields(cluster: &Value) -> Result<Cluster<'_>> {
    let ca_certificate = match opt_object(cluster, "masterAuth")? {
        Some(auth) => opt_str(auth, "clusterCaCertificate")?,
        None => None,
    };
    Ok(Cluster { endpoint: opt_str(cluster, "endpoint")?, ca_certificate, status: opt_str(cluster, "status")? })
}

/// The cluster's address and CA from the response. Errors carry Flux's
/// context, `failed to describe GKE cluster '<name>': ...`; Google's error
/// status (`NOT_FOUND`, `PERMISSION_DENIED`) is the error code.
pub fn parse_cluster(response: &HttpResponse, name: &ClusterName) -> Result<Discovered> {
    let what = format!("failed to describe GKE cluster '{}'", name.as_str());
    let body = json_object(response, ErrorFormat::Google).map_err(|e| wrap_error(&what, e))?;
    let cluster = cluster_fields(&body).map_err(|e| wrap_error(&what, e))?;
    let status = cluster.status.map(|s| format!(" (status {})", quote(s))).unwrap_or_default();
    let missing = |field: &str| Error::malformed(format!("{what}: the response has no {field}{status}"));
    let endpoint = cluster.endpoint.filter(|e| !e.is_empty()).ok_or_else(|| missing("endpoint"))?;
    let ca_data =
        cluster.ca_certificate.filter(|c| !c.is_empty()).ok_or_else(|| missing("masterAuth.clusterCaCertificate"))?;
    Ok(Discovered {
        host: discovered_address(&what, endpoint)?,
        ca_data: decode_ca_data("GKE CA certificate", ca_data)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::tests::{TEST_PEM, TEST_PEM_BASE64};
    use crate::http::MAX_RESPONSE_BODY;

    const NAME: &str = "projects/test-project/locations/us-central1/clusters/test-cluster";

    fn name() -> ClusterName {
        ClusterName::parse(NAME).unwrap()
    }

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, body)
    }

    #[test]
    fn parses_names() {
        let n = name();
        assert_eq!(
            (n.project(), n.location(), n.cluster(), n.as_str()),
            ("test-project", "us-central1", "test-cluster", NAME)
        );
        for ok in [
            "projects/123456789012/locations/europe-west1-b/clusters/c",
            "projects/example.com:my-project/locations/us-east4/clusters/prod-1",
        ] {
            assert!(ClusterName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn invalid_names() {
        for s in [
            "invalid-cluster-id",
            "",
            "//container.googleapis.com/projects/p-123456/locations/l1/clusters/c",
            "projects/test-project/zones/us-central1-a/clusters/c",
            "projects/test-project/locations/us-central1/clusters/c/nodePools/n",
            "projects/test-project/locations/us-central1/clusters/",
            "/projects/test-project/locations/us-central1/clusters/c",
        ] {
            let err = ClusterName::parse(s).unwrap_err();
            if s == "projects/test-project/locations/us-central1/clusters/" {
                assert!(err.to_string().contains("cluster name"), "{err}");
                continue;
            }
            assert_eq!(
                err,
                Error::invalid(format!("invalid GKE cluster ID: '{s}'. must match {CLUSTER_PATTERN}")),
                "{s}"
            );
        }
        assert_eq!(
            ClusterName::parse("invalid-cluster-id").unwrap_err().to_string(),
            "invalid input: invalid GKE cluster ID: 'invalid-cluster-id'. must match ^projects/[^/]{1,200}/locations/[^/]{1,200}/clusters/[^/]{1,200}$"
        );
        for (project, location, cluster, why) in [
            ("Test-Project", "us-central1", "c", "project"),
            ("short", "us-central1", "c", "project"),
            ("p..", "us-central1", "c", "project"),
            ("test-project-", "us-central1", "c", "project"),
            ("%2e%2e", "us-central1", "c", "project"),
            ("evil..com:proj", "us-central1", "c", "project"),
            ("test-project", "-", "c", "location"),
            ("test-project", "US-CENTRAL1", "c", "location"),
            ("test-project", "us central1", "c", "location"),
            ("test-project", "us-central1?x", "c", "location"),
            ("test-project", "us-central1", "..", "cluster"),
            ("test-project", "us-central1", "1c", "cluster"),
            ("test-project", "us-central1", "c-", "cluster"),
            ("test-project", "us-central1", "c_d", "cluster"),
            ("test-project", "us-central1", "c#x", "cluster"),
            ("test-project", "us-central1", "c\r\nX: y", "cluster"),
            ("test-project", "us-central1", &"c".repeat(41), "cluster"),
        ] {
            let s = format!("projects/{project}/locations/{location}/clusters/{cluster}");
            let err = ClusterName::parse(&s).unwrap_err();
            assert_eq!(err.kind(), "invalid-input", "{s}");
            assert!(err.to_string().contains(why), "{s}: {err}");
            assert!(!err.to_string().contains('\n'), "{err}");
        }
    }

    #[test]
    fn builds_the_request() {
        let req = get_cluster_request(&name(), &Secret::new("ya29.secret")).unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(
            req.url,
            "https://container.googleapis.com/v1/projects/test-project/locations/us-central1/clusters/test-cluster?alt=json&prettyPrint=false"
        );
        assert_eq!(req.header_value("Authorization"), Some("Bearer ya29.secret"));
        assert!(req.body.is_empty());
        assert!(!format!("{req:?}").contains("ya29"));
        for bad in ["", "a\r\nX: y"] {
            assert_eq!(get_cluster_request(&name(), &Secret::new(bad)).unwrap_err().kind(), "invalid-input");
        }
    }

    #[test]
    fn parses_the_cluster() {
        let body = format!(
            r#"{{"name":"test-cluster","endpoint":"203.0.113.10","masterAuth":{{"clusterCaCertificate":"{TEST_PEM_BASE64}"}},"status":"RUNNING"}}"#
        );
        let got = parse_cluster(&resp(200, &body), &name()).unwrap();
        assert_eq!(got, Discovered { host: "https://203.0.113.10".into(), ca_data: TEST_PEM.into() });
        for (endpoint, want) in [
            ("gke-0123456789abcdef.us-central1.gke.goog", "https://gke-0123456789abcdef.us-central1.gke.goog"),
            ("2001:db8::10", "https://[2001:db8::10]"),
            ("https://203.0.113.10", "https://203.0.113.10"),
        ] {
            let body =
                format!(r#"{{"endpoint":"{endpoint}","masterAuth":{{"clusterCaCertificate":"{TEST_PEM_BASE64}"}}}}"#);
            assert_eq!(parse_cluster(&resp(200, &body), &name()).unwrap().host, want);
        }
    }

    #[test]
    fn cluster_response_errors() {
        let provisioning = r#"{"status":"PROVISIONING","masterAuth":{}}"#;
        assert_eq!(
            parse_cluster(&resp(200, provisioning), &name()).unwrap_err(),
            Error::malformed(format!(
                "failed to describe GKE cluster '{NAME}': the response has no endpoint (status PROVISIONING)"
            ))
        );
        let no_ca = r#"{"endpoint":"203.0.113.10"}"#;
        assert!(
            parse_cluster(&resp(200, no_ca), &name())
                .unwrap_err()
                .to_string()
                .contains("no masterAuth.clusterCaCertificate")
        );
        // Flux's test value: the base64 of a lone BEGIN line, not a certificate.
        let lone = r#"{"endpoint":"203.0.113.10","masterAuth":{"clusterCaCertificate":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"}}"#;
        let err = parse_cluster(&resp(200, lone), &name()).unwrap_err();
        assert!(err.to_string().contains("failed to decode GKE CA certificate: "), "{err}");
        for endpoint in ["http://203.0.113.10", "203.0.113.10/../x?y", "a b", "u@h", "h:99999"] {
            let body =
                format!(r#"{{"endpoint":"{endpoint}","masterAuth":{{"clusterCaCertificate":"{TEST_PEM_BASE64}"}}}}"#);
            let err = parse_cluster(&resp(200, &body), &name()).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{endpoint}");
        }
        for body in ["", "{", "[]", r#"{"endpoint":1}"#, r#"{"masterAuth":"x"}"#, "<html>ok</html>"] {
            let err = parse_cluster(&resp(200, body), &name()).unwrap_err();
            assert_eq!(err.kind(), "malformed-response", "{body}");
            assert!(err.to_string().contains("failed to describe GKE cluster"), "{err}");
        }
        let err = parse_cluster(
            &resp(404, r#"{"error":{"code":404,"message":"Not found: projects/x.","status":"NOT_FOUND"}}"#),
            &name(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::HttpStatus {
                status: 404,
                code: Some("NOT_FOUND".into()),
                message: format!("failed to describe GKE cluster '{NAME}': Not found: projects/x."),
            }
        );
        let err = parse_cluster(&resp(500, "<html>oops</html>"), &name()).unwrap_err();
        assert!(matches!(err, Error::HttpStatus { status: 500, code: None, .. }));
        let big = HttpResponse { status: 200, headers: vec![], body: vec![b' '; MAX_RESPONSE_BODY + 1] };
        assert_eq!(parse_cluster(&big, &name()).unwrap_err().kind(), "malformed-response");
    }
}
