//! Amazon Web Services: SigV4, endpoints, STS, ECR, ECR Public, EKS tokens
//! and CodeCommit Git credentials.

pub mod codecommit;
pub mod container;
pub mod credentials_document;
pub mod ecr;
pub mod eks;
pub mod endpoint;
pub mod ini;
pub mod partition;
pub mod shared_config;
pub mod sigv4;
pub mod sts;
