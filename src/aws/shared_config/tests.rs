//! Cases from the Go SDK v2's `config/shared_config_test.go` and its
//! `config/testdata/shared_config` profiles (the subset cloudauth reads),
//! and from botocore's `tests/unit/test_configloader.py` where both SDKs
//! agree. Each test names the SDK case it follows.

use super::*;

fn location(profile: Option<&str>) -> Location {
    Location {
        profile: profile.unwrap_or(DEFAULT_PROFILE).to_owned(),
        profile_explicit: profile.is_some(),
        config: Some(File { path: "/home/u/.aws/config".into(), variable: None }),
        credentials: Some(File { path: "/home/u/.aws/credentials".into(), variable: None }),
    }
}

fn resolved(config: &str, credentials: &str, profile: &str) -> Result<Option<Profile>> {
    resolve(&location(Some(profile)), Some(config), Some(credentials))
}

fn profile(config: &str, credentials: &str, profile: &str) -> Profile {
    resolved(config, credentials, profile).unwrap().unwrap()
}

fn error(config: &str, credentials: &str, profile: &str) -> Error {
    resolved(config, credentials, profile).unwrap_err()
}

fn keys(id: &str, secret: &str, token: Option<&str>) -> AwsCredentials {
    AwsCredentials {
        access_key_id: id.into(),
        secret_access_key: Secret::new(secret),
        session_token: token.map(Secret::new),
        expires_at: None,
    }
}

fn role(profile: &str, arn: &str) -> AssumeRole {
    AssumeRole {
        profile: profile.into(),
        role_arn: arn.into(),
        session_name: None,
        external_id: None,
        duration_seconds: DEFAULT_DURATION,
    }
}

/// A subset of aws-sdk-go-v2 `config/testdata/shared_config`.
const GO_CONFIG: &str = r#"[default]
s3 =
  unsupported_key=123
  other_unsupported=abc

region = default_region

[profile exampleProfile]
region = us-west-2
aws_access_key_id = AKID
aws_secret_access_key = SECRET

[profile short_profile_name_first]
region = short_profile_name_first_short

[profile short_profile_name_first]
region = short_profile_name_first_alt

[profile partial_creds]
aws_access_key_id = partial_creds_akid

[profile complete_creds]
aws_access_key_id = complete_creds_akid
aws_secret_access_key = complete_creds_secret

[profile complete_creds_with_token]
aws_access_key_id = complete_creds_with_token_akid
aws_secret_access_key = complete_creds_with_token_secret
aws_session_token = complete_creds_with_token_token

[profile partial_assume_role]
role_arn = partial_assume_role_role_arn

[profile assume_role]
role_arn = assume_role_role_arn
source_profile = complete_creds

[profile assume_role_w_mfa]
role_arn = assume_role_role_arn
source_profile = complete_creds
mfa_serial = 0123456789

[profile assume_role_invalid_source_profile]
role_arn = assume_role_invalid_source_profile_role_arn
source_profile = profile_not_exists

[profile assume_role_w_creds]
role_arn = assume_role_w_creds_role_arn
source_profile = assume_role_w_creds
external_id = 1234
role_session_name = assume_role_w_creds_session_name
aws_access_key_id = assume_role_w_creds_akid
aws_secret_access_key = assume_role_w_creds_secret

[profile assume_role_w_creds_ext_dur]
role_arn = assume_role_w_creds_role_arn
duration_seconds=1800
source_profile = assume_role_w_creds_ext_dur
external_id = 1234
role_session_name = assume_role_w_creds_session_name
aws_access_key_id = assume_role_w_creds_akid
aws_secret_access_key = assume_role_w_creds_secret

[profile assume_role_wo_creds]
role_arn = assume_role_wo_creds_role_arn
source_profile = assume_role_wo_creds

[profile with_mixed_case_keys]
aWs_AcCeSs_kEy_ID = accessKey
aWs_SecrEt_AccEsS_kEY = secret

[profile assume_role_with_credential_source]
role_arn = assume_role_with_credential_source_role_arn
credential_source = Ec2InstanceMetadata

[profile multiple_assume_role]
role_arn = multiple_assume_role_role_arn
source_profile = assume_role

[profile multiple_assume_role_with_credential_source2]
role_arn = multiple_assume_role_with_credential_source2_role_arn
source_profile = multiple_assume_role_with_credential_source

[profile multiple_assume_role_with_credential_source]
role_arn = multiple_assume_role_with_credential_source_role_arn
source_profile = assume_role_with_credential_source

[profile sso_creds]
sso_account_id = 012345678901
sso_region = us-west-2
sso_role_name = TestRole
sso_start_url = https://127.0.0.1/start

[profile source_sso_creds]
role_arn = source_sso_creds_arn
source_profile = sso_creds

[profile sso_and_static]
aws_access_key_id = sso_and_static_akid
aws_secret_access_key = sso_and_static_secret
aws_session_token = sso_and_static_token
sso_account_id = 012345678901
sso_region = us-west-2
sso_role_name = TestRole
sso_start_url = https://THIS_SHOULD_NOT_BE_IN_TESTDATA_CACHE/start

[profile DoNotNormalize]
aws_access_key_id = DoNotNormalize_config_akid
aws_secret_access_key = DoNotNormalize_config_secret

[profile donotnormalize]
aws_access_key_id = donotnormalize_config_akid
aws_secret_access_key = donotnormalize_config_secret

[profile DoNotNormalize]
region = us-west-2

[profile UseDualStackEndpointEnabled]
region = "us-west-2"
use_dualstack_endpoint=True

[profile UseFIPSEndpointDisabled]
region = "us-west-2"
use_fips_endpoint=False

[profile UseFIPSEndpointInvalid]
region = "us-west-2"
use_fips_endpoint=invalid
"#;

/// aws-sdk-go-v2 TestNewSharedConfig: "default" profile (the nested `s3`
/// section is skipped, `region` read), and `exampleProfile`.
#[test]
fn go_default_and_example_profiles() {
    let p = resolve(&location(None), Some(GO_CONFIG), None).unwrap().unwrap();
    assert_eq!((p.name.as_str(), p.region.as_deref(), &p.base), ("default", Some("default_region"), &Base::Chain));
    let p = profile(GO_CONFIG, "", "exampleProfile");
    assert_eq!(p.region.as_deref(), Some("us-west-2"));
    assert_eq!(p.base, Base::Static { profile: "exampleProfile".into(), credentials: keys("AKID", "SECRET", None) });
    assert!(p.roles.is_empty());
}

/// "short_profile_name_first": a repeated section is one profile, the
/// later value wins. "DoNotNormalize": names are case-sensitive.
#[test]
fn go_repeated_sections_and_case() {
    assert_eq!(
        profile(GO_CONFIG, "", "short_profile_name_first").region.as_deref(),
        Some("short_profile_name_first_alt")
    );
    let p = profile(GO_CONFIG, "", "DoNotNormalize");
    assert_eq!(p.region.as_deref(), Some("us-west-2"));
    assert!(
        matches!(p.base, Base::Static { ref credentials, .. } if credentials.access_key_id == "DoNotNormalize_config_akid")
    );
    let p = profile(GO_CONFIG, "", "donotnormalize");
    assert!(
        matches!(p.base, Base::Static { ref credentials, .. } if credentials.access_key_id == "donotnormalize_config_akid")
    );
    assert_eq!(error(GO_CONFIG, "", "DONOTNORMALIZE").kind(), "invalid-input");
}

/// "complete_creds", "complete_creds_with_token", "with_mixed_case_keys";
/// "partial_creds" is an error ("partial credentials found for profile").
#[test]
fn go_static_credentials() {
    let p = profile(GO_CONFIG, "", "complete_creds_with_token");
    assert_eq!(
        p.base,
        Base::Static {
            profile: "complete_creds_with_token".into(),
            credentials: keys(
                "complete_creds_with_token_akid",
                "complete_creds_with_token_secret",
                Some("complete_creds_with_token_token")
            )
        }
    );
    let p = profile(GO_CONFIG, "", "with_mixed_case_keys");
    assert_eq!(
        p.base,
        Base::Static { profile: "with_mixed_case_keys".into(), credentials: keys("accessKey", "secret", None) }
    );
    let err = error(GO_CONFIG, "", "partial_creds");
    assert!(err.to_string().contains("only one of aws_access_key_id and aws_secret_access_key"), "{err}");
    assert!(!err.to_string().contains("partial_creds_akid"), "{err}");
}

/// "assume_role" and "multiple_assume_role": roles in order after the
/// source's keys; "assume_role_with_credential_source" and the two-level
/// chains over it.
#[test]
fn go_assume_role_chains() {
    let p = profile(GO_CONFIG, "", "assume_role");
    assert_eq!(
        p.base,
        Base::Static {
            profile: "complete_creds".into(),
            credentials: keys("complete_creds_akid", "complete_creds_secret", None)
        }
    );
    assert_eq!(p.roles, vec![role("assume_role", "assume_role_role_arn")]);
    let p = profile(GO_CONFIG, "", "multiple_assume_role");
    assert_eq!(
        p.roles,
        vec![
            role("assume_role", "assume_role_role_arn"),
            role("multiple_assume_role", "multiple_assume_role_role_arn")
        ]
    );
    let p = profile(GO_CONFIG, "", "multiple_assume_role_with_credential_source2");
    assert_eq!(p.base, Base::InstanceMetadata { profile: "assume_role_with_credential_source".into() });
    assert_eq!(
        p.roles.iter().map(|r| r.role_arn.as_str()).collect::<Vec<_>>(),
        [
            "assume_role_with_credential_source_role_arn",
            "multiple_assume_role_with_credential_source_role_arn",
            "multiple_assume_role_with_credential_source2_role_arn"
        ]
    );
    // "partial_assume_role": a role without a credential type takes the
    // rest of the default chain's credentials.
    let p = profile(GO_CONFIG, "", "partial_assume_role");
    assert_eq!((p.base, p.roles.len()), (Base::Chain, 1));
}

/// "assume_role_w_creds" (a profile naming itself uses its own keys, with
/// `external_id` and `role_session_name`), "assume_role_w_creds_ext_dur"
/// (1800 s), and "assume_role_wo_creds" (naming itself without keys: an
/// error).
#[test]
fn go_self_referencing_profiles() {
    let p = profile(GO_CONFIG, "", "assume_role_w_creds");
    assert_eq!(
        p.base,
        Base::Static {
            profile: "assume_role_w_creds".into(),
            credentials: keys("assume_role_w_creds_akid", "assume_role_w_creds_secret", None)
        }
    );
    assert_eq!(
        p.roles,
        vec![AssumeRole {
            profile: "assume_role_w_creds".into(),
            role_arn: "assume_role_w_creds_role_arn".into(),
            session_name: Some("assume_role_w_creds_session_name".into()),
            external_id: Some("1234".into()),
            duration_seconds: DEFAULT_DURATION,
        }]
    );
    assert_eq!(profile(GO_CONFIG, "", "assume_role_w_creds_ext_dur").roles[0].duration_seconds, 1800);
    let err = error(GO_CONFIG, "", "assume_role_wo_creds");
    assert_eq!(err.kind(), "invalid-input");
    assert!(err.to_string().contains("cycle"), "{err}");
}

/// "assume_role_invalid_source_profile": `SharedConfigAssumeRoleError`
/// naming the missing source; "assume_role_w_mfa": needs a token provider.
#[test]
fn go_assume_role_errors() {
    let err = error(GO_CONFIG, "", "assume_role_invalid_source_profile");
    assert!(err.to_string().contains("\"profile_not_exists\" is in neither shared file"), "{err}");
    let err = error(GO_CONFIG, "", "assume_role_w_mfa");
    assert_eq!(err.kind(), "unsupported");
    assert!(err.to_string().contains("mfa_serial"), "{err}");
}

/// "sso_creds" and "source_sso_creds": SSO is unsupported, naming the keys;
/// "sso_and_static": static keys come first in the SDK's order.
#[test]
fn go_sso_profiles() {
    for name in ["sso_creds", "source_sso_creds"] {
        let err = error(GO_CONFIG, "", name);
        assert_eq!(err.kind(), "unsupported", "{name}");
        assert!(err.to_string().contains("sso_start_url"), "{err}");
    }
    assert!(matches!(profile(GO_CONFIG, "", "sso_and_static").base, Base::Static { .. }));
}

/// "UseDualStackEndpointEnabled" (`True`), "UseFIPSEndpointDisabled"; an
/// invalid value is an error here (the SDK reads it as false).
#[test]
fn go_endpoint_flags() {
    let p = profile(GO_CONFIG, "", "UseDualStackEndpointEnabled");
    assert_eq!(
        (p.region.as_deref(), p.use_dualstack_endpoint, p.use_fips_endpoint),
        (Some("us-west-2"), Some(true), None)
    );
    assert_eq!(profile(GO_CONFIG, "", "UseFIPSEndpointDisabled").use_fips_endpoint, Some(false));
    assert!(
        error(GO_CONFIG, "", "UseFIPSEndpointInvalid").to_string().contains("use_fips_endpoint must be true or false")
    );
}

/// The SDK's `mergeSections` (gh1204, TestLoadSharedConfigFromSections):
/// the credentials file's key pair wins over the config file's for the same
/// profile; other keys merge; `[profile x]` in the credentials file and
/// `[x]` in the config file are not profiles.
#[test]
fn config_and_credentials_merge() {
    let config = "[profile dev]\nregion = eu-west-1\naws_access_key_id = CONFIG_AKID\naws_secret_access_key = config_secret\naws_session_token = config_token\n[other]\nregion = ignored\n";
    let credentials = "[dev]\naws_access_key_id = CRED_AKID\naws_secret_access_key = cred_secret\n[profile other]\naws_access_key_id = X\naws_secret_access_key = Y\n";
    let p = profile(config, credentials, "dev");
    assert_eq!(p.region.as_deref(), Some("eu-west-1"));
    // The Go SDK keeps the config file's session token when the
    // credentials file has none (it merges aws_session_token only when set).
    assert_eq!(
        p.base,
        Base::Static { profile: "dev".into(), credentials: keys("CRED_AKID", "cred_secret", Some("config_token")) }
    );
    assert!(error(config, credentials, "other").to_string().contains("is in neither"));
    // A profile only in the credentials file.
    let p = profile("", "[ci]\naws_access_key_id = A\naws_secret_access_key = B\nregion = us-east-2\n", "ci");
    assert_eq!(p.region.as_deref(), Some("us-east-2"));
    // [profile default] wins over [default] in the config file.
    let p = resolve(&location(None), Some("[default]\nregion = a\n[profile default]\nregion = b\n"), None)
        .unwrap()
        .unwrap();
    assert_eq!(p.region.as_deref(), Some("b"));
}

/// botocore test_configloader: `role_arn` + `web_identity_token_file`
/// (+ `role_session_name`) is a web identity; `credential_source` values.
#[test]
fn web_identity_and_credential_sources() {
    let config = "[profile wi]\nrole_arn = arn:aws:iam::123456789012:role/wi\nweb_identity_token_file = /var/run/token\nrole_session_name = my-session\n[profile env]\nrole_arn = arn:aws:iam::123456789012:role/e\ncredential_source = Environment\n[profile ecs]\nrole_arn = arn:aws:iam::123456789012:role/c\ncredential_source = EcsContainer\n[profile bad]\nrole_arn = arn:aws:iam::123456789012:role/c\ncredential_source = Shell\n[profile norole]\nweb_identity_token_file = /t\n[profile both]\nrole_arn = r\nsource_profile = wi\ncredential_source = Environment\n[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/top\nsource_profile = wi\n";
    let p = profile(config, "", "wi");
    assert_eq!(
        p.base,
        Base::WebIdentity {
            profile: "wi".into(),
            role_arn: "arn:aws:iam::123456789012:role/wi".into(),
            token_file: "/var/run/token".into(),
            session_name: Some("my-session".into())
        }
    );
    assert!(p.roles.is_empty(), "the web identity's role is not assumed twice");
    assert_eq!(profile(config, "", "env").base, Base::Environment { profile: "env".into() });
    assert_eq!(profile(config, "", "ecs").base, Base::EcsContainer { profile: "ecs".into() });
    assert!(error(config, "", "bad").to_string().contains("credential_source must be"));
    assert!(error(config, "", "norole").to_string().contains("web_identity_token_file requires role_arn"));
    assert!(error(config, "", "both").to_string().contains("only one of"));
    let p = profile(config, "", "chained");
    assert!(matches!(p.base, Base::WebIdentity { .. }));
    assert_eq!(p.roles, vec![role("chained", "arn:aws:iam::123456789012:role/top")]);
}

/// botocore test_credentials (`test_self_referential_profile`,
/// `test_recursive_assume_role`): a cycle between profiles without keys
/// is an error that names it; credential_process is unsupported.
#[test]
fn cycles_and_process() {
    let config = "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n[profile p]\ncredential_process = /usr/bin/creds --secret\n";
    let err = error(config, "", "a");
    assert!(err.to_string().contains("cycle") && err.to_string().contains("\"a\""), "{err}");
    let err = error(config, "", "p");
    assert_eq!(err.kind(), "unsupported");
    assert!(err.to_string().contains("credential_process") && !err.to_string().contains("--secret"), "{err}");
}

#[test]
fn long_chains_are_bounded() {
    let mut config = String::from("[profile p0]\naws_access_key_id = A\naws_secret_access_key = B\n");
    for i in 1..=12 {
        config.push_str(&format!(
            "[profile p{i}]\nrole_arn = arn:aws:iam::123456789012:role/r{i}\nsource_profile = p{}\n",
            i - 1
        ));
    }
    assert_eq!(profile(&config, "", "p10").roles.len(), 10);
    assert!(error(&config, "", "p12").to_string().contains("than 10"));
}

#[test]
fn durations() {
    let with = |d: &str| {
        format!(
            "[default]\nrole_arn = r\nsource_profile = k\nduration_seconds = {d}\n[profile k]\naws_access_key_id = A\naws_secret_access_key = B\n"
        )
    };
    let duration =
        |d: &str| resolve(&location(None), Some(&with(d)), None).map(|p| p.unwrap().roles[0].duration_seconds);
    // The SDK keeps its 900 s default up to 15 minutes and some seconds.
    assert_eq!(duration("959").unwrap(), 900);
    assert_eq!(duration("960").unwrap(), 960);
    assert_eq!(duration("43200").unwrap(), 43_200);
    assert!(duration("an hour").is_err());
}

#[test]
fn missing_files_and_profiles() {
    // No files at all, default profile: nothing configured.
    assert_eq!(resolve(&location(None), None, None).unwrap(), None);
    assert_eq!(resolve(&location(None), Some("[profile x]\n"), None).unwrap(), None);
    // A named profile that is nowhere: SharedConfigProfileNotExistError.
    let err = resolve(&location(Some("prod")), None, Some("[dev]\n")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid input: AWS_PROFILE names profile \"prod\", which is in neither /home/u/.aws/config nor /home/u/.aws/credentials"
    );
    // A file a variable names must exist.
    let mut loc = location(None);
    loc.config = Some(File { path: "/etc/aws/config".into(), variable: Some("AWS_CONFIG_FILE") });
    let err = resolve(&loc, None, Some("[default]\n")).unwrap_err();
    assert_eq!(err.to_string(), "invalid input: AWS_CONFIG_FILE names /etc/aws/config, which does not exist");
}

#[test]
fn locate_files() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| -> Result<Option<&'static str>> { Ok(vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)) }
    };
    assert_eq!(locate(env(&[])).unwrap(), None);
    let err = locate(env(&[("AWS_PROFILE", "dev")])).unwrap_err();
    assert!(err.to_string().contains("no HOME"), "{err}");
    let loc = locate(env(&[("HOME", "/home/u/")])).unwrap().unwrap();
    assert_eq!(loc, location(None));
    let loc = locate(env(&[("AWS_CONFIG_FILE", "/c"), ("AWS_PROFILE", "dev")])).unwrap().unwrap();
    assert_eq!(loc.config, Some(File { path: "/c".into(), variable: Some("AWS_CONFIG_FILE") }));
    assert_eq!((loc.credentials, loc.profile.as_str(), loc.profile_explicit), (None, "dev", true));
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let credentials = "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\naws_session_token = TOKENVALUE\n";
    let p = resolve(&location(None), None, Some(credentials)).unwrap().unwrap();
    let debug = format!("{p:?}");
    assert!(debug.contains("AKIDEXAMPLE") && !debug.contains("wJalr") && !debug.contains("TOKENVALUE"), "{debug}");
    let broken =
        "[default]\naws_access_key_id = AKID\naws_secret_access_key = wJalrXUtnFEMI\naws_session_token = line\n  two\n";
    let err = resolve(&location(None), None, Some(broken)).unwrap_err();
    assert!(
        err.to_string().contains("aws_session_token contains a line break") && !err.to_string().contains("wJalr"),
        "{err}"
    );
}
