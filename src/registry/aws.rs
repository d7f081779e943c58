//! Amazon ECR hosts. A private registry is
//! `<account>.dkr.ecr[-fips].<region>.<partition DNS suffix>` or, dual-stack,
//! `<account>.dkr-ecr[-fips].<region>.on.<...>` (`on.aws`,
//! `on.amazonwebservices.com.cn`); ECR Public is `public.ecr.aws` or, dual-stack,
//! `ecr-public.aws.com`.
//!
//! AWS writes the dual-stack label as `dkr-ecr`: a host that mixes the
//! separators (`<account>.dkr.ecr.<region>.on.aws`) is not ECR, even though
//! the AWS credential helpers' patterns (`dkr[\.\-]ecr`) would take it.
//!
//! The whole host must have that shape, the account twelve digits and the
//! region one of the partition whose suffix the host uses (so
//! `dkr.ecr.cn-north-1.amazonaws.com` is not ECR: China's suffix is
//! `amazonaws.com.cn`). fluxcd/pkg's pattern (from amazon-ecr-credential-helper)
//! is unanchored and would also match a host that only contains such a name.

use super::AwsRegistry;
use crate::ascii;
use crate::aws::partition::{self, Partition};
use crate::host::Authority;

/// ECR Public's registry hosts: IPv4, and dual-stack.
const PUBLIC_HOSTS: &[&str] = &["public.ecr.aws", "ecr-public.aws.com"];
/// The region ECR Public authenticates in.
const PUBLIC_REGION: &str = "us-east-1";
/// The partition of ECR Public.
const PUBLIC_PARTITION: &str = "aws";

/// How a private registry host names ECR, between the account and the region.
struct HostForm {
    plain: &'static str,
    fips: &'static str,
    /// Whether a DNS suffix after the region is this form's, for the
    /// region's partition.
    suffix: fn(&Partition, &str) -> bool,
}

const FORMS: &[HostForm] = &[
    // `<account>.dkr.ecr[-fips].<region>.<partition DNS suffix>`
    HostForm { plain: "dkr.ecr", fips: "dkr.ecr-fips", suffix: |p, suffix| p.dns_suffix == suffix },
    // `<account>.dkr-ecr[-fips].<region>.on.<...>`: ECR's dual-stack hosts.
    HostForm { plain: "dkr-ecr", fips: "dkr-ecr-fips", suffix: dual_stack_registry_suffix },
];

/// Whether `suffix` is that of ECR's dual-stack registry hosts in a
/// partition: its dual-stack API suffix with `on.` for `api.` (botocore's
/// `api.aws` gives `on.aws`, `api.amazonwebservices.com.cn` gives
/// `on.amazonwebservices.com.cn`). Taken from the partition data, so a
/// partition without dual-stack endpoints has no such host.
fn dual_stack_registry_suffix(partition: &Partition, suffix: &str) -> bool {
    let api = ascii::strip_prefix(partition.dual_stack_dns_suffix, "api.");
    let registry = ascii::strip_prefix(suffix, "on.");
    partition.supports_dual_stack && api.is_some() && api == registry
}

/// The ECR registry a host is, if any.
pub(super) fn registry(host: &Authority) -> Option<AwsRegistry> {
    let host = host.host();
    if PUBLIC_HOSTS.contains(&host) {
        return Some(AwsRegistry {
            account_id: None,
            region: PUBLIC_REGION.to_owned(),
            partition: PUBLIC_PARTITION,
            fips: false,
            public: true,
        });
    }
    let (account, rest) = ascii::split_once(host, b'.')?;
    if !is_account_id(account) {
        return None;
    }
    FORMS.iter().find_map(|form| {
        let (fips, rest) = match strip_label(rest, form.fips) {
            Some(rest) => (true, rest),
            None => (false, strip_label(rest, form.plain)?),
        };
        let (region, suffix) = ascii::split_once(rest, b'.')?;
        let partition = partition::for_region(region)?;
        (form.suffix)(partition, suffix).then(|| AwsRegistry {
            account_id: Some(account.to_owned()),
            region: region.to_owned(),
            partition: partition.id,
            fips,
            public: false,
        })
    })
}

/// `s` without the leading `labels.` (byte comparisons: see `crate::ascii`).
fn strip_label<'a>(s: &'a str, labels: &str) -> Option<&'a str> {
    ascii::strip_prefix(ascii::strip_prefix(s, labels)?, ".")
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecr(host: &str) -> Option<AwsRegistry> {
        registry(&Authority::parse(host).unwrap())
    }

    fn private(account: &str, region: &str, partition: &'static str, fips: bool) -> Option<AwsRegistry> {
        Some(AwsRegistry { account_id: Some(account.into()), region: region.into(), partition, fips, public: false })
    }

    #[test]
    fn every_partition() {
        let a = "123456789012";
        for (host, region, partition, fips) in [
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "us-east-1", "aws", false),
            ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1", "aws", true),
            ("123456789012.dkr.ecr.il-central-1.amazonaws.com", "il-central-1", "aws", false),
            ("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "us-gov-west-1", "aws-us-gov", false),
            ("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com", "us-gov-east-1", "aws-us-gov", true),
            ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", "aws-cn", false),
            ("123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1", "aws-cn", false),
            ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", "aws-eusc", false),
            ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "aws-iso", false),
            ("123456789012.dkr.ecr-fips.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "aws-iso", true),
            ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", "aws-iso-b", false),
            ("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1", "aws-iso-e", false),
            ("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1", "aws-iso-f", false),
            ("123456789012.dkr-ecr.us-east-1.on.aws", "us-east-1", "aws", false),
            ("123456789012.dkr-ecr-fips.us-west-2.on.aws", "us-west-2", "aws", true),
            ("123456789012.dkr-ecr.us-gov-west-1.on.aws", "us-gov-west-1", "aws-us-gov", false),
            ("123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "cn-north-1", "aws-cn", false),
            ("123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", "cn-northwest-1", "aws-cn", false),
            ("123456789012.dkr-ecr.us-iso-west-1.on.aws.ic.gov", "us-iso-west-1", "aws-iso", false),
            ("123456789012.dkr-ecr.us-isob-east-1.on.aws.scloud", "us-isob-east-1", "aws-iso-b", false),
            ("123456789012.dkr-ecr.eu-isoe-west-1.on.cloud-aws.adc-e.uk", "eu-isoe-west-1", "aws-iso-e", false),
            ("123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM:443", "us-east-1", "aws", false),
        ] {
            assert_eq!(ecr(host), private(a, region, partition, fips), "{host}");
        }
    }

    #[test]
    fn public() {
        for host in ["public.ecr.aws", "ecr-public.aws.com", "ECR-PUBLIC.AWS.COM"] {
            let p = ecr(host).unwrap();
            assert_eq!(
                (p.account_id, p.region.as_str(), p.partition, p.fips, p.public),
                (None, "us-east-1", "aws", false, true),
                "{host}"
            );
        }
    }

    #[test]
    fn not_ecr() {
        for host in [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
            "evil.example.123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "x.123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "12345678901.dkr.ecr.us-east-1.amazonaws.com",
            "1234567890123.dkr.ecr.us-east-1.amazonaws.com",
            "12345678901a.dkr.ecr.us-east-1.amazonaws.com",
            "dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.amazonaws.com",
            "123456789012.dkr.ecr-fip.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east.amazonaws.com",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",
            "123456789012.dkr.ecr.us-east-1.c2s.ic.gov",
            "123456789012.dkr.ecr.us-secret-region.sc2s.sgov.gov",
            "123456789012.dkr.ecr.us-ts-region.c2s.ic.gov",
            "123456789012.dkr.ecr.uk-region.cloud.adc-e.uk",
            "123456789012.dkr-ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.us-east-1.on.aws",
            "123456789012.dkr-ecr.cn-north-1.on.aws",
            "123456789012.dkr-ecr.us-iso-east-1.on.aws",
            "123456789012.dkr-ecr.us-east-1.on.aws.evil.example",
            "123456789012.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn",
            "123456789012.dkr.ecr.us-east-1.on.aws",
            "123456789012.dkr-ecr.us-east-1.on.amazonwebservices.com.cn",
            "123456789012.dkr-ecr.cn-north-1.api.amazonwebservices.com.cn",
            "123456789012.dkr-ecr.cn-north-1.amazonwebservices.com.cn",
            "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn.evil.example",
            "ecr-public.aws.com.evil.example",
            "x.ecr-public.aws.com",
            "ecr-public.aws",
            "public.ecr.aws.evil.example",
            "x.public.ecr.aws",
            "ecr.aws",
            "amazonaws.com",
        ] {
            assert_eq!(ecr(host), None, "{host}");
        }
    }
}
