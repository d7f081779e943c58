//! Azure: ACR through Entra workload identity, managed identity and the other sources, and Azure DevOps.

use super::*;

pub(crate) const TENANT: &str = "72f988bf-0000-4000-8000-00000000a11e";
pub(crate) const CLIENT: &str = "0d0e0a0d-beef-4000-8000-00000000c1d0";
pub(crate) const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";
pub(crate) const DEVOPS_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

pub(crate) fn azure_sa() -> Identity {
    sa(
        "default",
        "workload-sa",
        &[("azure.workload.identity/tenant-id", TENANT), ("azure.workload.identity/client-id", CLIENT)],
    )
}

pub(crate) fn assertion() -> String {
    cases::input("azure.entra-token.request.json", "azure-workload-identity-token-0", "client_assertion")
}

/// The Entra token response case and its access token.
pub(crate) fn entra_token() -> (u16, String, String) {
    let (status, body) = cases::response("azure.entra-token.response.json", "azure-workload-identity-token-0");
    let token = json_field(&body, "access_token");
    (status, body, token)
}

/// The ACR exchange request for `registry` carrying `token`, from the case.
fn acr_exchange_request(registry: &str, token: &str) -> Value {
    let mut expect = cases::request("azure.acr-exchange.request.json", "exchange");
    expect["url"] = json!(format!("https://{registry}/oauth2/exchange?api-version=2021-07-01"));
    let expect = with_form(expect, "service", registry);
    with_form(expect, "access_token", token)
}

fn acr_exchange(registry: &str, token: &str) -> (Exchange, Credentials) {
    let (status, body) = cases::response("azure.acr-exchange.response.json", "exchange");
    let refresh = json_field(&body, "refresh_token");
    (
        Exchange::http(
            acr_exchange_request(registry, token),
            response(status, &[], &body),
            Some(r#"{"refresh_token": "not-a-jwt"}"#),
        ),
        registry_credentials("00000000-0000-0000-0000-000000000000", &refresh, Some(FAR)),
    )
}

pub(crate) fn azure_scenarios() -> Vec<Scenario> {
    let (entra_status, entra_body, entra_access) = entra_token();
    let entra = || response(entra_status, &[], &entra_body);
    let entra_expect = |id: &str| cases::request("azure.entra-token.request.json", id);
    let wi_file = "/var/run/secrets/azure/tokens/azure-identity-token";
    let mut out = Vec::new();

    // Object-level workload identity, ACR in the public cloud.
    let (exchange, creds) = acr_exchange("myregistry.azurecr.io", &entra_access);
    out.push(scenario(
        "acr-service-account",
        registry("myregistry.azurecr.io/app:v1", azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_expect("azure-workload-identity-token-0"), entra(), Some("<html>gateway</html>")),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // Controller-level workload identity in China: the cloud's authority.
    let (exchange, creds) = acr_exchange("myregistry.azurecr.cn", &entra_access);
    out.push(scenario(
        "acr-controller-workload-identity-china",
        registry(
            "oci://myregistry.azurecr.cn/charts/podinfo",
            Identity::Controller,
            options(&[
                ("AZURE_CLIENT_ID", CLIENT),
                ("AZURE_TENANT_ID", TENANT),
                ("AZURE_FEDERATED_TOKEN_FILE", wi_file),
            ]),
        ),
        vec![
            Exchange::token("api://AzureADTokenExchange", None, Some(wi_file), &assertion()),
            Exchange::http(entra_expect("cloud-AzureChina"), entra(), Some("{")),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // Controller-level workload identity with AZURE_AUTHORITY_HOST.
    let mut expect = entra_expect("azure-workload-identity-token-0");
    expect["url"] = json!(format!("https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token"));
    let (exchange, creds) = acr_exchange("myregistry.azurecr.us", &entra_access);
    out.push(scenario(
        "acr-controller-workload-identity-authority-host",
        registry(
            "myregistry.azurecr.us/app",
            Identity::Controller,
            options(&[
                ("AZURE_CLIENT_ID", CLIENT),
                ("AZURE_TENANT_ID", TENANT),
                ("AZURE_FEDERATED_TOKEN_FILE", wi_file),
                ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
            ]),
        ),
        vec![
            Exchange::token("api://AzureADTokenExchange", None, Some(wi_file), &assertion()),
            Exchange::http(expect, entra(), None),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // Controller-level managed identity (user-assigned via AZURE_CLIENT_ID).
    let (imds_status, imds_body) = cases::response("azure.imds-token.response.json", "imds-0");
    let imds_token = json_field(&imds_body, "access_token");
    let imds_client = cases::input("azure.imds-token.request.json", "imds-client_id", "client_id");
    let (exchange, creds) = acr_exchange("myregistry.azurecr.io", &imds_token);
    out.push(scenario(
        "acr-controller-managed-identity",
        registry("myregistry.azurecr.io/app", Identity::Controller, options(&[("AZURE_CLIENT_ID", &imds_client)])),
        vec![
            Exchange::http(
                cases::request("azure.imds-token.request.json", "imds-client_id"),
                response(imds_status, &[], &imds_body),
                Some("{\"access_token\": 1}"),
            ),
            exchange,
        ],
        Outcome::Done(creds),
    ));

    // A plain token: system-assigned managed identity, default (ARM) scope.
    let imds_expires = NOW + json_field(&imds_body, "expires_in").parse::<i64>().expect("expires_in");
    out.push(scenario(
        "azure-access-token-managed-identity",
        access_token(Provider::Azure, &[], Identity::Controller, options(&[])),
        vec![Exchange::http(
            cases::request("azure.imds-token.request.json", "imds-system-assigned"),
            response(imds_status, &[], &imds_body),
            Some("[]"),
        )],
        Outcome::Done(Credentials::AccessToken(AccessToken { token: imds_token.clone(), expires_at: imds_expires })),
    ));

    // Git: Azure DevOps, object-level.
    let entra_expires = NOW + 3599;
    out.push(scenario(
        "git-azure-devops-service-account",
        SessionRequest {
            target: Target::Git("https://dev.azure.com/org/project/_git/repo".into()),
            identity: azure_sa(),
            options: options(&[]),
            now: NOW,
        },
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(
                with_form(entra_expect("azure-workload-identity-token-0"), "scope", DEVOPS_SCOPE),
                entra(),
                Some("{}"),
            ),
        ],
        Outcome::Done(Credentials::Git(GitCredentials {
            username: "azure-devops".into(),
            password: entra_access.clone(),
            bearer_token: entra_access.clone(),
            expires_at: entra_expires,
        })),
    ));

    // The service's error code comes through.
    let (status, body) = cases::response("azure.entra-token.response.json", "invalid-client-400");
    out.push(scenario(
        "acr-entra-invalid-client",
        registry("myregistry.azurecr.io/app", azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_expect("azure-workload-identity-token-0"), response(status, &[], &body), None),
        ],
        Outcome::Failed { kind: "http-status", code: Some("invalid_client") },
    ));
    let (status, body) = cases::response("azure.acr-exchange.response.json", "unauthorized");
    out.push(scenario(
        "acr-exchange-unauthorized",
        registry("myregistry.azurecr.io/app", azure_sa(), options(&[])),
        vec![
            Exchange::token("api://AzureADTokenExchange", Some(("default", "workload-sa")), None, &assertion()),
            Exchange::http(entra_expect("azure-workload-identity-token-0"), entra(), None),
            Exchange::http(
                acr_exchange_request("myregistry.azurecr.io", &entra_access),
                response(status, &[], &body),
                None,
            ),
        ],
        Outcome::Failed { kind: "http-status", code: None },
    ));
    out
}
