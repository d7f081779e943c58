//! Google Cloud: Artifact Registry through workload identity federation and the metadata server.

use super::*;

const WIP: &str = "projects/123456789012/locations/global/workloadIdentityPools/my-pool/providers/my-provider";
pub(crate) const GSA: &str = "wirecap-sa@my-project.iam.gserviceaccount.com";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
const USERINFO: &str = "https://www.googleapis.com/auth/userinfo.email";

pub(crate) fn gcp_scenarios() -> Vec<Scenario> {
    let (md_status, md_body) = cases::response("gcp.metadata-token.response.json", "ok");
    let md_token = json_field(&md_body, "access_token");
    let (sts_status, sts_body) = cases::response("gcp.sts-exchange.response.json", "ok");
    let sts_token = json_field(&sts_body, "access_token");
    let (iam_status, iam_body) = cases::response("gcp.impersonation.response.json", "ok");
    let iam_token = json_field(&iam_body, "accessToken");
    let subject = cases::input("gcp.sts-exchange.request.json", "impersonation", "subject_token");
    let mut out = Vec::new();

    out.push(scenario(
        "gar-controller-metadata",
        registry("us-docker.pkg.dev/my-project/repo/app:v1", Identity::Controller, options(&[])),
        vec![Exchange::http(
            cases::request("gcp.metadata-token.request.json", "scopes-1"),
            response(md_status, &[], &md_body),
            Some(r#"{"expires_in": 3599}"#),
        )],
        Outcome::Done(registry_credentials("oauth2accesstoken", &md_token, Some(NOW + 3599))),
    ));

    // Federation from outside GKE with impersonation, as an access token for the case's scope.
    out.push(scenario(
        "gcp-access-token-federation-impersonation",
        access_token(
            Provider::Gcp,
            &[CLOUD_PLATFORM],
            sa(
                "default",
                "workload-sa",
                &[("gcp.auth.fluxcd.io/workload-identity-provider", WIP), ("iam.gke.io/gcp-service-account", GSA)],
            ),
            options(&[]),
        ),
        vec![
            Exchange::token(&format!("//iam.googleapis.com/{WIP}"), Some(("default", "workload-sa")), None, &subject),
            Exchange::http(
                cases::request("gcp.sts-exchange.request.json", "impersonation"),
                response(sts_status, &[], &sts_body),
                Some("{}"),
            ),
            Exchange::http(
                cases::request("gcp.impersonation.request.json", "impersonation"),
                response(iam_status, &[], &iam_body),
                Some(r#"{"accessToken": "x"}"#),
            ),
        ],
        Outcome::Done(Credentials::AccessToken(AccessToken { token: iam_token.clone(), expires_at: FAR })),
    ));

    // GKE, direct access: the pool and provider come from the metadata server.
    let provider_url =
        "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/my-cluster";
    let md = |path: &str| json!({"method": "GET", "url": format!("http://metadata.google.internal/computeMetadata/v1/{path}"), "headers": {"Metadata-Flavor": "Google"}});
    let mut sts_expect = cases::request("gcp.sts-exchange.request.json", "file-source");
    sts_expect = with_form(sts_expect, "audience", &format!("identitynamespace:my-project.svc.id.goog:{provider_url}"));
    sts_expect = with_form(sts_expect, "scope", &format!("{CLOUD_PLATFORM} {USERINFO}"));
    sts_expect = with_form(sts_expect, "subject_token", &subject);
    out.push(scenario(
        "gar-gke-direct-access",
        registry("europe-docker.pkg.dev/my-project/repo/app", sa("apps", "puller", &[]), options(&[])),
        vec![
            Exchange::http(md("project/project-id"), response(200, &[], "my-project"), Some("")),
            Exchange::http(md("instance/attributes/cluster-location"), response(200, &[], "us-central1"), Some("\n")),
            Exchange::http(
                md("instance/attributes/cluster-name"),
                response(200, &[], "my-cluster"),
                Some("Not_A_Cluster"),
            ),
            Exchange::token("my-project.svc.id.goog", Some(("apps", "puller")), None, &subject),
            Exchange::http(sts_expect, response(sts_status, &[], &sts_body), Some("{\"access_token\": \"\"}")),
        ],
        Outcome::Done(registry_credentials("oauth2accesstoken", &sts_token, Some(NOW + 3599))),
    ));

    let (status, body) = cases::response("gcp.sts-exchange.response.json", "invalid-grant");
    out.push(scenario(
        "gcp-sts-invalid-grant",
        access_token(
            Provider::Gcp,
            &[CLOUD_PLATFORM],
            sa(
                "default",
                "workload-sa",
                &[("gcp.auth.fluxcd.io/workload-identity-provider", WIP), ("iam.gke.io/gcp-service-account", GSA)],
            ),
            options(&[]),
        ),
        vec![
            Exchange::token(&format!("//iam.googleapis.com/{WIP}"), Some(("default", "workload-sa")), None, &subject),
            Exchange::http(
                cases::request("gcp.sts-exchange.request.json", "impersonation"),
                response(status, &[], &body),
                None,
            ),
        ],
        Outcome::Failed { kind: "http-status", code: Some("invalid_grant") },
    ));
    out
}
