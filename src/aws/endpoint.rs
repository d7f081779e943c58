//! Endpoint resolution for STS, ECR, ECR Public and EKS, as botocore's
//! endpoint rule sets do it (`endpoint-rule-set-1.json` of `sts`, `ecr`,
//! `ecr-public` and `eks`, botocore 1.44).
//!
//! The rule sets are small decision trees over the partition of the region
//! and the FIPS and dual-stack options; each service is written out here as
//! its own function so the tree stays readable next to its source. The one
//! departure from botocore is on purpose: a region must have the shape of a
//! region of a known partition. botocore falls back to the `aws` partition for
//! anything that is a valid host label, which would let a caller-supplied
//! "region" pick the host a signed request goes to.

use crate::aws::partition::{self, Partition};
use crate::error::{Error, Result, quoted};

/// A service cloudauth talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Sts,
    Ecr,
    EcrPublic,
    Eks,
}

impl Service {
    /// The SigV4 signing name (the rule sets' `signingName`).
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::Ecr => "ecr",
            Service::EcrPublic => "ecr-public",
            Service::Eks => "eks",
        }
    }
}

/// Endpoint variants, as botocore's configuration names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EndpointOptions {
    /// `use_fips_endpoint`.
    pub fips: bool,
    /// `use_dualstack_endpoint`.
    pub dualstack: bool,
    /// `sts_regional_endpoints = legacy` (STS only).
    pub legacy: bool,
}

/// A resolved endpoint: scheme and host (no trailing slash) and signing region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub signing_region: String,
}

impl Endpoint {
    /// An endpoint signed for the region it serves.
    fn regional(host: String, region: &str) -> Self {
        Endpoint { url: format!("https://{host}"), signing_region: region.to_owned() }
    }
}

/// The STS global endpoint, and the region its requests are signed for.
const STS_GLOBAL_HOST: &str = "sts.amazonaws.com";
const STS_GLOBAL_SIGNING_REGION: &str = "us-east-1";

/// The pseudo-region botocore maps to the STS global endpoint.
const AWS_GLOBAL: &str = "aws-global";

/// The regions that used the STS global endpoint before regional endpoints
/// became the default: with `sts_regional_endpoints = legacy` they still do
/// (botocore's `LEGACY_GLOBAL_STS_REGIONS`, repeated in the STS rule set).
const LEGACY_GLOBAL_STS_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Resolves the endpoint of `service` in `region`.
///
/// Errors: `invalid-input` when `region` is not a region name of a known
/// partition; `unsupported` for a variant the partition does not offer.
pub fn resolve(service: Service, region: &str, options: EndpointOptions) -> Result<Endpoint> {
    if service == Service::Sts && region == AWS_GLOBAL {
        return sts_aws_global(options);
    }
    let partition = partition::for_region(region)
        .ok_or_else(|| Error::invalid(format!("{} is not an AWS region name", quoted(region))))?;
    match service {
        Service::Sts => sts(partition, region, options),
        Service::Ecr => ecr(partition, region, options),
        Service::EcrPublic => ecr_public(partition, region, options),
        Service::Eks => eks(partition, region, options),
    }
}

/// STS: `sts.<region>.<dnsSuffix>`, `sts-fips.` for FIPS (GovCloud's regional
/// endpoints are FIPS already), the dual-stack suffix for dual-stack, and the
/// global endpoint for the legacy regions when asked for.
fn sts(partition: &Partition, region: &str, options: EndpointOptions) -> Result<Endpoint> {
    let EndpointOptions { fips, dualstack, legacy } = options;
    let host = match (fips, dualstack) {
        (true, true) => {
            require_fips_and_dual_stack(partition)?;
            format!("sts-fips.{region}.{}", partition.dual_stack_dns_suffix)
        }
        (true, false) => {
            require_fips(partition)?;
            if partition.id == "aws-us-gov" {
                format!("sts.{region}.amazonaws.com")
            } else {
                format!("sts-fips.{region}.{}", partition.dns_suffix)
            }
        }
        (false, true) => {
            require_dual_stack(partition)?;
            format!("sts.{region}.{}", partition.dual_stack_dns_suffix)
        }
        (false, false) => {
            if legacy && LEGACY_GLOBAL_STS_REGIONS.contains(&region) {
                return Ok(sts_global());
            }
            format!("sts.{region}.{}", partition.dns_suffix)
        }
    };
    Ok(Endpoint::regional(host, region))
}

/// `aws-global` names the STS global endpoint; it has no FIPS or dual-stack
/// variant (botocore would build a host for the pseudo-region that does not exist).
fn sts_aws_global(options: EndpointOptions) -> Result<Endpoint> {
    if options.fips || options.dualstack {
        return Err(Error::unsupported("the STS global endpoint (aws-global) has no FIPS or dual-stack variant"));
    }
    Ok(sts_global())
}

fn sts_global() -> Endpoint {
    Endpoint { url: format!("https://{STS_GLOBAL_HOST}"), signing_region: STS_GLOBAL_SIGNING_REGION.to_owned() }
}

/// ECR: `api.ecr.<region>.<dnsSuffix>`, `api.ecr-fips.` for FIPS; dual-stack
/// endpoints drop the `api.` prefix: `ecr[-fips].<region>.<dualStackDnsSuffix>`.
/// The rule set names every partition, so it checks no `supports*` flag.
fn ecr(partition: &Partition, region: &str, options: EndpointOptions) -> Result<Endpoint> {
    let host = match (options.fips, options.dualstack) {
        (true, true) => format!("ecr-fips.{region}.{}", partition.dual_stack_dns_suffix),
        (true, false) => format!("api.ecr-fips.{region}.{}", partition.dns_suffix),
        (false, true) => format!("ecr.{region}.{}", partition.dual_stack_dns_suffix),
        (false, false) => format!("api.ecr.{region}.{}", partition.dns_suffix),
    };
    Ok(Endpoint::regional(host, region))
}

/// ECR Public: `api.ecr-public[-fips].<region>.<dnsSuffix>`; dual-stack is
/// `ecr-public.<region>.api.aws` in partition `aws`, else
/// `api.ecr-public.<region>.<dualStackDnsSuffix>`.
fn ecr_public(partition: &Partition, region: &str, options: EndpointOptions) -> Result<Endpoint> {
    let host = match (options.fips, options.dualstack) {
        (true, true) => {
            require_fips_and_dual_stack(partition)?;
            format!("api.ecr-public-fips.{region}.{}", partition.dual_stack_dns_suffix)
        }
        (true, false) => {
            require_fips(partition)?;
            format!("api.ecr-public-fips.{region}.{}", partition.dns_suffix)
        }
        (false, true) => {
            require_dual_stack(partition)?;
            if partition.id == "aws" {
                format!("ecr-public.{region}.api.aws")
            } else {
                format!("api.ecr-public.{region}.{}", partition.dual_stack_dns_suffix)
            }
        }
        (false, false) => format!("api.ecr-public.{region}.{}", partition.dns_suffix),
    };
    Ok(Endpoint::regional(host, region))
}

/// EKS: `eks.<region>.<dnsSuffix>`; FIPS is `fips.eks.<region>.amazonaws.com`
/// in partition `aws`, the regular endpoint in GovCloud (already FIPS) and
/// `eks-fips.<region>.<dnsSuffix>` elsewhere; dual-stack endpoints use the
/// dual-stack suffix (`eks-fips.` with FIPS).
fn eks(partition: &Partition, region: &str, options: EndpointOptions) -> Result<Endpoint> {
    let host = match (options.fips, options.dualstack) {
        (true, true) => {
            require_fips_and_dual_stack(partition)?;
            format!("eks-fips.{region}.{}", partition.dual_stack_dns_suffix)
        }
        (true, false) => {
            require_fips(partition)?;
            match partition.id {
                "aws" => format!("fips.eks.{region}.amazonaws.com"),
                "aws-us-gov" => format!("eks.{region}.amazonaws.com"),
                _ => format!("eks-fips.{region}.{}", partition.dns_suffix),
            }
        }
        (false, true) => {
            require_dual_stack(partition)?;
            format!("eks.{region}.{}", partition.dual_stack_dns_suffix)
        }
        (false, false) => format!("eks.{region}.{}", partition.dns_suffix),
    };
    Ok(Endpoint::regional(host, region))
}

fn require_fips(partition: &Partition) -> Result<()> {
    if partition.supports_fips {
        return Ok(());
    }
    Err(Error::unsupported(format!("FIPS is enabled but partition {} does not support FIPS", partition.id)))
}

fn require_dual_stack(partition: &Partition) -> Result<()> {
    if partition.supports_dual_stack {
        return Ok(());
    }
    Err(Error::unsupported(format!("dual-stack is enabled but partition {} does not support dual-stack", partition.id)))
}

fn require_fips_and_dual_stack(partition: &Partition) -> Result<()> {
    if partition.supports_fips && partition.supports_dual_stack {
        return Ok(());
    }
    Err(Error::unsupported(format!(
        "FIPS and dual-stack are enabled, but partition {} does not support one or both",
        partition.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: EndpointOptions = EndpointOptions { fips: false, dualstack: false, legacy: false };
    const FIPS: EndpointOptions = EndpointOptions { fips: true, dualstack: false, legacy: false };
    const DUAL: EndpointOptions = EndpointOptions { fips: false, dualstack: true, legacy: false };
    const BOTH: EndpointOptions = EndpointOptions { fips: true, dualstack: true, legacy: false };
    const LEGACY: EndpointOptions = EndpointOptions { fips: false, dualstack: false, legacy: true };

    fn url(service: Service, region: &str, options: EndpointOptions) -> String {
        resolve(service, region, options).unwrap().url
    }

    #[test]
    fn sts_variants() {
        use Service::Sts;
        assert_eq!(url(Sts, "us-east-1", NONE), "https://sts.us-east-1.amazonaws.com");
        assert_eq!(url(Sts, "us-east-1", FIPS), "https://sts-fips.us-east-1.amazonaws.com");
        assert_eq!(url(Sts, "us-east-1", DUAL), "https://sts.us-east-1.api.aws");
        assert_eq!(url(Sts, "us-east-1", BOTH), "https://sts-fips.us-east-1.api.aws");
        assert_eq!(url(Sts, "us-gov-west-1", FIPS), "https://sts.us-gov-west-1.amazonaws.com");
        assert_eq!(url(Sts, "us-gov-east-1", BOTH), "https://sts-fips.us-gov-east-1.api.aws");
        assert_eq!(url(Sts, "cn-north-1", DUAL), "https://sts.cn-north-1.api.amazonwebservices.com.cn");
        assert_eq!(url(Sts, "cn-north-1", FIPS), "https://sts-fips.cn-north-1.amazonaws.com.cn");
        assert_eq!(url(Sts, "us-iso-east-1", NONE), "https://sts.us-iso-east-1.c2s.ic.gov");
        assert_eq!(url(Sts, "us-isob-east-1", FIPS), "https://sts-fips.us-isob-east-1.sc2s.sgov.gov");
        assert_eq!(url(Sts, "eu-isoe-west-1", DUAL), "https://sts.eu-isoe-west-1.api.cloud-aws.adc-e.uk");
        assert_eq!(url(Sts, "us-isof-south-1", NONE), "https://sts.us-isof-south-1.csp.hci.ic.gov");
        assert_eq!(url(Sts, "eusc-de-east-1", NONE), "https://sts.eusc-de-east-1.amazonaws.eu");
    }

    #[test]
    fn sts_legacy_global_endpoint() {
        let global = Endpoint { url: "https://sts.amazonaws.com".into(), signing_region: "us-east-1".into() };
        for region in ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "sa-east-1"] {
            assert_eq!(resolve(Service::Sts, region, LEGACY).unwrap(), global, "{region}");
        }
        assert_eq!(resolve(Service::Sts, "aws-global", NONE).unwrap(), global);
        // Newer regions, other partitions and variants stay regional.
        for (region, want) in [
            ("ap-east-1", "https://sts.ap-east-1.amazonaws.com"),
            ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
            ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
        ] {
            let e = resolve(Service::Sts, region, LEGACY).unwrap();
            assert_eq!((e.url.as_str(), e.signing_region.as_str()), (want, region));
        }
        let fips_legacy = EndpointOptions { legacy: true, ..FIPS };
        assert_eq!(url(Service::Sts, "us-west-2", fips_legacy), "https://sts-fips.us-west-2.amazonaws.com");
        let dual_legacy = EndpointOptions { legacy: true, ..DUAL };
        assert_eq!(url(Service::Sts, "us-west-2", dual_legacy), "https://sts.us-west-2.api.aws");
        assert_eq!(resolve(Service::Sts, "aws-global", FIPS).unwrap_err().kind(), "unsupported");
    }

    #[test]
    fn ecr_variants() {
        use Service::Ecr;
        assert_eq!(url(Ecr, "us-east-1", NONE), "https://api.ecr.us-east-1.amazonaws.com");
        assert_eq!(url(Ecr, "us-east-1", FIPS), "https://api.ecr-fips.us-east-1.amazonaws.com");
        assert_eq!(url(Ecr, "us-east-1", DUAL), "https://ecr.us-east-1.api.aws");
        assert_eq!(url(Ecr, "us-east-1", BOTH), "https://ecr-fips.us-east-1.api.aws");
        assert_eq!(url(Ecr, "us-gov-east-1", FIPS), "https://api.ecr-fips.us-gov-east-1.amazonaws.com");
        assert_eq!(url(Ecr, "cn-northwest-1", DUAL), "https://ecr.cn-northwest-1.api.amazonwebservices.com.cn");
        assert_eq!(url(Ecr, "us-iso-east-1", NONE), "https://api.ecr.us-iso-east-1.c2s.ic.gov");
        assert_eq!(url(Ecr, "us-iso-west-1", DUAL), "https://ecr.us-iso-west-1.api.aws.ic.gov");
        assert_eq!(url(Ecr, "eusc-de-east-1", FIPS), "https://api.ecr-fips.eusc-de-east-1.amazonaws.eu");
        // `legacy` only concerns STS.
        assert_eq!(url(Ecr, "us-west-2", LEGACY), "https://api.ecr.us-west-2.amazonaws.com");
        let e = resolve(Ecr, "eu-west-1", NONE).unwrap();
        assert_eq!(e.signing_region, "eu-west-1");
    }

    #[test]
    fn ecr_public_variants() {
        use Service::EcrPublic;
        assert_eq!(url(EcrPublic, "us-east-1", NONE), "https://api.ecr-public.us-east-1.amazonaws.com");
        assert_eq!(url(EcrPublic, "us-west-2", FIPS), "https://api.ecr-public-fips.us-west-2.amazonaws.com");
        assert_eq!(url(EcrPublic, "us-east-1", DUAL), "https://ecr-public.us-east-1.api.aws");
        assert_eq!(url(EcrPublic, "us-east-1", BOTH), "https://api.ecr-public-fips.us-east-1.api.aws");
        assert_eq!(
            url(EcrPublic, "cn-north-1", DUAL),
            "https://api.ecr-public.cn-north-1.api.amazonwebservices.com.cn"
        );
    }

    #[test]
    fn eks_variants() {
        use Service::Eks;
        assert_eq!(url(Eks, "us-west-2", NONE), "https://eks.us-west-2.amazonaws.com");
        assert_eq!(url(Eks, "us-west-2", FIPS), "https://fips.eks.us-west-2.amazonaws.com");
        assert_eq!(url(Eks, "us-west-2", DUAL), "https://eks.us-west-2.api.aws");
        assert_eq!(url(Eks, "us-west-2", BOTH), "https://eks-fips.us-west-2.api.aws");
        assert_eq!(url(Eks, "us-gov-west-1", FIPS), "https://eks.us-gov-west-1.amazonaws.com");
        assert_eq!(url(Eks, "cn-north-1", NONE), "https://eks.cn-north-1.amazonaws.com.cn");
        assert_eq!(url(Eks, "cn-north-1", FIPS), "https://eks-fips.cn-north-1.amazonaws.com.cn");
        assert_eq!(url(Eks, "us-iso-east-1", DUAL), "https://eks.us-iso-east-1.api.aws.ic.gov");
        assert_eq!(url(Eks, "eusc-de-east-1", NONE), "https://eks.eusc-de-east-1.amazonaws.eu");
        assert_eq!(url(Eks, "eu-west-1", LEGACY), "https://eks.eu-west-1.amazonaws.com");
        assert_eq!(Eks.signing_name(), "eks");
        let e = resolve(Eks, "ap-south-1", NONE).unwrap();
        assert_eq!(e.signing_region, "ap-south-1");
        let p = Partition { supports_fips: false, supports_dual_stack: false, ..*partition::by_id("aws").unwrap() };
        for options in [FIPS, DUAL, BOTH] {
            assert_eq!(eks(&p, "us-east-1", options).unwrap_err().kind(), "unsupported");
        }
    }

    #[test]
    fn non_regions_are_invalid_input() {
        for service in [Service::Sts, Service::Ecr, Service::EcrPublic, Service::Eks] {
            for region in [
                "",
                "us-east-1.evil.com",
                "US-EAST-1",
                "xx-east-1",
                "us-east-1/x",
                "us-east-1\r\n",
                "evil.com#",
                "aws-cn-global",
            ] {
                let err = resolve(service, region, NONE).unwrap_err();
                assert_eq!(err.kind(), "invalid-input", "{service:?} {region:?}");
            }
        }
        assert_eq!(resolve(Service::Ecr, "aws-global", NONE).unwrap_err().kind(), "invalid-input");
    }

    #[test]
    fn unsupported_variants_are_reported() {
        let p = Partition { supports_fips: false, supports_dual_stack: false, ..*partition::by_id("aws-iso").unwrap() };
        for options in [FIPS, DUAL, BOTH] {
            assert_eq!(sts(&p, "us-iso-east-1", options).unwrap_err().kind(), "unsupported");
            assert_eq!(ecr_public(&p, "us-iso-east-1", options).unwrap_err().kind(), "unsupported");
        }
    }
}
