//! AWS partitions, as botocore's `partitions.json` defines them: which
//! regions belong to which partition, the DNS suffixes of its endpoints and
//! the endpoint variants it offers.
//!
//! Region names are matched by shape, like botocore's `regionRegex`, so a new
//! region of a known partition works without a table update. The shapes are
//! matched more strictly than Python's `\w` would: lower-case ASCII letters
//! and digits only, at most one DNS label long. A region name ends up in a
//! host name, so anything looser could steer a request elsewhere.

use crate::ascii;

/// One AWS partition (the `outputs` of a `partitions.json` entry).
#[derive(Debug, PartialEq, Eq)]
pub struct Partition {
    /// botocore's partition id (and `name` output): `aws`, `aws-cn`, ...
    pub id: &'static str,
    /// The DNS suffix of regional endpoints.
    pub dns_suffix: &'static str,
    /// The DNS suffix of dual-stack endpoints.
    pub dual_stack_dns_suffix: &'static str,
    /// The region that global services of the partition sign for.
    pub implicit_global_region: &'static str,
    /// Whether the partition has FIPS endpoints (`supportsFIPS`).
    pub supports_fips: bool,
    /// Whether the partition has dual-stack endpoints (`supportsDualStack`).
    pub supports_dual_stack: bool,
    /// The `regionRegex` as literal prefixes: a region is `<prefix>-<word>-<digits>`.
    pub(crate) region_prefixes: &'static [&'static str],
}

/// The partitions, in botocore's order. Region shapes do not overlap (`\w`
/// has no dash), so the order does not change which partition a region is in.
///
/// From botocore's `partitions.json` (version 1.1, as shipped with botocore
/// 1.44): every partition now supports FIPS and dual-stack endpoints
/// (smithy-lang/smithy#2781 corrected the ISO partitions).
pub const PARTITIONS: &[Partition] = &[
    Partition {
        id: "aws",
        dns_suffix: "amazonaws.com",
        dual_stack_dns_suffix: "api.aws",
        implicit_global_region: "us-east-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"],
    },
    Partition {
        id: "aws-cn",
        dns_suffix: "amazonaws.com.cn",
        dual_stack_dns_suffix: "api.amazonwebservices.com.cn",
        implicit_global_region: "cn-northwest-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["cn"],
    },
    Partition {
        id: "aws-eusc",
        dns_suffix: "amazonaws.eu",
        dual_stack_dns_suffix: "api.amazonwebservices.eu",
        implicit_global_region: "eusc-de-east-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["eusc-de"],
    },
    Partition {
        id: "aws-iso",
        dns_suffix: "c2s.ic.gov",
        dual_stack_dns_suffix: "api.aws.ic.gov",
        implicit_global_region: "us-iso-east-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["us-iso"],
    },
    Partition {
        id: "aws-iso-b",
        dns_suffix: "sc2s.sgov.gov",
        dual_stack_dns_suffix: "api.aws.scloud",
        implicit_global_region: "us-isob-east-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["us-isob"],
    },
    Partition {
        id: "aws-iso-e",
        dns_suffix: "cloud.adc-e.uk",
        dual_stack_dns_suffix: "api.cloud-aws.adc-e.uk",
        implicit_global_region: "eu-isoe-west-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["eu-isoe"],
    },
    Partition {
        id: "aws-iso-f",
        dns_suffix: "csp.hci.ic.gov",
        dual_stack_dns_suffix: "api.aws.hci.ic.gov",
        implicit_global_region: "us-isof-south-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["us-isof"],
    },
    Partition {
        id: "aws-us-gov",
        dns_suffix: "amazonaws.com",
        dual_stack_dns_suffix: "api.aws",
        implicit_global_region: "us-gov-west-1",
        supports_fips: true,
        supports_dual_stack: true,
        region_prefixes: &["us-gov"],
    },
];

/// Longest region name: it is one DNS label of an endpoint host.
const MAX_REGION_LEN: usize = 63;

/// The partition of a region name, or None when the name has no known shape.
/// A region is `<prefix>-<letters/digits>-<digits>`, e.g. `us-east-1`,
/// `us-isob-east-1`, `eusc-de-east-1`.
pub fn for_region(region: &str) -> Option<&'static Partition> {
    if region.len() > MAX_REGION_LEN {
        return None;
    }
    PARTITIONS.iter().find(|p| {
        p.region_prefixes.iter().any(|prefix| after_prefix_and_dash(region, prefix).is_some_and(is_word_dash_digits))
    })
}

/// `region.strip_prefix(prefix)?.strip_prefix('-')`, comparing bytes: this
/// runs for every prefix of every partition on each ECR host resolution, and
/// in the component `str`'s pattern methods are not inlined.
fn after_prefix_and_dash<'a>(region: &'a str, prefix: &str) -> Option<&'a str> {
    ascii::strip_prefix(ascii::strip_prefix(region, prefix)?, "-")
}

/// `\w+-\d+`, restricted to lower-case ASCII letters and digits before the dash.
fn is_word_dash_digits(s: &str) -> bool {
    let Some((word, digits)) = ascii::rsplit_once(s, b'-') else {
        return false;
    };
    !word.is_empty()
        && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The partition with this id.
pub fn by_id(id: &str) -> Option<&'static Partition> {
    PARTITIONS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_to_partitions() {
        for (region, id) in [
            ("us-east-1", "aws"),
            ("ap-southeast-5", "aws"),
            ("il-central-1", "aws"),
            ("mx-central-1", "aws"),
            ("us-gov-west-1", "aws-us-gov"),
            ("cn-northwest-1", "aws-cn"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(for_region(region).map(|p| p.id), Some(id), "{region}");
        }
    }

    #[test]
    fn non_regions_have_no_partition() {
        let too_long = format!("us-east-{}", "1".repeat(60));
        for bad in [
            "",
            "us-east",
            "us-east-1.evil.com",
            "zz-east-1",
            "us--1",
            "US-EAST-1",
            "us-East-1",
            "us-east-1a",
            "us-east_1-1",
            "us-east-1\n",
            " us-east-1",
            "us-east-1/",
            "eusc-fr-east-1",
            "aws-global",
            "us-east-١",
            too_long.as_str(),
        ] {
            assert_eq!(for_region(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn partition_outputs_match_botocore() {
        let cn = by_id("aws-cn").unwrap();
        assert_eq!((cn.dns_suffix, cn.dual_stack_dns_suffix), ("amazonaws.com.cn", "api.amazonwebservices.com.cn"));
        let gov = by_id("aws-us-gov").unwrap();
        assert_eq!(
            (gov.dns_suffix, gov.dual_stack_dns_suffix, gov.implicit_global_region),
            ("amazonaws.com", "api.aws", "us-gov-west-1")
        );
        let isob = by_id("aws-iso-b").unwrap();
        assert_eq!((isob.dns_suffix, isob.dual_stack_dns_suffix), ("sc2s.sgov.gov", "api.aws.scloud"));
        assert!(PARTITIONS.iter().all(|p| p.supports_fips && p.supports_dual_stack));
        assert_eq!(by_id("aws-iso-z"), None);
        // Every implicit global region is a region of its own partition.
        for p in PARTITIONS {
            assert_eq!(for_region(p.implicit_global_region).map(|q| q.id), Some(p.id));
        }
    }
}
